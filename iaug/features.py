"""STFT front-end shared by every network in iaug.

Noise is mixed in the complex STFT domain, so the front-end hands out the
complex spectrogram and, separately, the dB magnitude the networks read.
"""

import torch


class STFT(torch.nn.Module):
    """Complex STFT (Hann window, centred, reflect padding) and its inverse.

    Arguments
    ---------
    n_fft : int
        FFT size; 512 gives 257 frequency bins.
    hop_length : int
        Hop in samples; 128 gives 126 frames for one second at 16 kHz.
    amin : float
        Magnitude floor of the dB conversion (no top_db clamp).
    """

    def __init__(self, n_fft=512, hop_length=128, amin=1e-10):
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.amin = amin
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, wavs):
        """[B, samples] float -> [B, n_fft // 2 + 1, frames] complex."""
        return torch.stft(
            wavs,
            self.n_fft,
            hop_length=self.hop_length,
            window=self.window,
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )

    def inverse(self, spec, length):
        """Complex spectrogram -> waveform of ``length`` samples."""
        return torch.istft(
            spec,
            self.n_fft,
            hop_length=self.hop_length,
            window=self.window,
            center=True,
            length=length,
        )

    def db(self, spec):
        """Magnitude in dB: 20 log10(max(|X|, amin))."""
        return 20.0 * torch.log10(spec.abs().clamp(min=self.amin))

    def num_frames(self, num_samples):
        """Frames produced for ``num_samples`` samples (tensor or int)."""
        return num_samples // self.hop_length + 1

    def frame_mask(self, rel_lengths, num_frames):
        """[B, T] float mask of the frames that hold real (unpadded) audio.

        ``rel_lengths`` are SpeechBrain relative lengths (1.0 = longest).
        """
        valid = torch.round(rel_lengths * num_frames).clamp(1, num_frames)
        frames = torch.arange(num_frames, device=rel_lengths.device)
        return (frames[None, :] < valid[:, None]).float()
