"""Reports: the paper's figures and tables redrawn from a run's files beside the published numbers
(``python -m reports make``), and the whole pipeline in one command (``python -m reports reproduce``)."""
import common  # noqa: F401  (first: oneDNN on before anything loads TensorFlow; common/onednn.py)
