"""Frame-level models."""

from .resnet_attention import (AttentionBlock, ChannelAttention, Extractor, attention_weights,
                               build_extractor)

__all__ = ["AttentionBlock", "ChannelAttention", "Extractor", "attention_weights", "build_extractor"]
