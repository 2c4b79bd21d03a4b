from .image import ImagePipeline, ImageResult, WalkResult

__all__ = ["ImagePipeline", "ImageResult", "WalkResult"]
