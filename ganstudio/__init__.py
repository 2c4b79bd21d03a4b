"""GAN Studio: generate digits, text and melodies with GANs, each output labelled AI-generated.

    >>> from ganstudio import ImagePipeline
    >>> grid = ImagePipeline.from_pretrained("checkpoints/mnist-cdcgan")(label="3", count=8, seed=0).grid
"""

from .errors import CheckpointError, InvalidParameterError
from .pipelines import ImagePipeline, MusicPipeline, TextPipeline

__version__ = "0.1.0"
__all__ = ["ImagePipeline", "MusicPipeline", "TextPipeline", "InvalidParameterError", "CheckpointError", "__version__"]
