"""The training package: data loaders and one trainer per model family.

    python -m training image --data mnist.npz --out checkpoints/mnist-cdcgan
"""
