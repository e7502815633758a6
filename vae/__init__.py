"""V: the ConvVAE, its training, export and series encoding."""
