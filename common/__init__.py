"""Shared plumbing of every stage: typed config, command-line parsing, atomic files, stage timings.

Importing ``common`` turns TensorFlow's oneDNN kernels on for the process unless the user chose
(``common/onednn.py``: TensorFlow leaves them off on AVX2-only CPUs, where they are several times faster); every
package of the project imports ``common`` before anything loads TensorFlow.
"""
from common import onednn as _onednn

_onednn.default_on()
