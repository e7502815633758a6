"""V: the ConvVAE, its training, export and series encoding."""
import common  # noqa: F401  (first: oneDNN on before anything loads TensorFlow; common/onednn.py)
