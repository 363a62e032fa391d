"""ImportantAug: a learned data-augmentation agent for speech."""
__version__ = "0.1.0"

import logging as _logging

# SpeechBrain's train_logger warns that torchvision (for saving image
# samples, which iaug never does) is missing, once per logger built: about
# eight lines per training. It is not a dependency of iaug; drop that warning.
_logging.getLogger("speechbrain.utils.train_logger").addFilter(
    lambda record: "torchvision is not available" not in record.getMessage())
