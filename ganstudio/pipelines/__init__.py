from .image import ImagePipeline, ImageResult, WalkResult
from .music import MusicPipeline, MusicResult
from .text import TextPipeline, TextResult

__all__ = ["ImagePipeline", "ImageResult", "WalkResult", "MusicPipeline", "MusicResult", "TextPipeline", "TextResult"]
