"""ImportantAug: a learned data-augmentation agent for speech."""
__version__ = "0.1.0"
