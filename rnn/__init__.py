"""M, the MDN-RNN: model (rnn.model), training data (rnn.data), training (rnn.train), export, figures."""
