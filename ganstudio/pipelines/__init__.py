from .image import ImagePipeline, ImageResult, WalkResult
from .music import MusicPipeline, MusicResult

__all__ = ["ImagePipeline", "ImageResult", "WalkResult", "MusicPipeline", "MusicResult"]
