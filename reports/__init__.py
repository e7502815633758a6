"""Reports: the paper's figures and tables redrawn from a run's files beside the published numbers
(``python -m reports make``), and the whole pipeline in one command (``python -m reports reproduce``)."""
