"""C: the linear controller, CMA-ES in the dream or the real game, evaluation, the choice of the final agent, play."""
import common  # noqa: F401  (first: oneDNN on before anything loads TensorFlow; common/onednn.py)
