"""M, the MDN-RNN: model (rnn.model), training data (rnn.data), training (rnn.train), export, figures."""
import common  # noqa: F401  (first: oneDNN on before anything loads TensorFlow; common/onednn.py)
