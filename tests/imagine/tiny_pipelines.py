"""Tiny randomly initialised diffusers pipelines built from configs, saved to local folders.

No weights are downloaded: every module is constructed from a config with random weights,
and the T5-style tokenizer is trained here with ``tokenizers`` on a few sentences, saved and
reloaded like any local model folder. Shapes follow diffusers' own fast tests.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = ["the person walks to the chair and sits down on the chair",
          "shot scene motion execution end state the camera is fixed whole body in frame",
          "a static third person shot of one person picking up a cup and putting it in a sink",
          "replace the robot with a person same pose same view photorealistic"] * 8


def t5_tokenizer():  # noqa: ANN201
    """A T5 tokenizer (unigram) trained locally on :data:`CORPUS`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import T5TokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(CORPUS, trainers.UnigramTrainer(
        vocab_size=120, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"))
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))])
    return T5TokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>",
                           unk_token="<unk>", extra_ids=0)


def _t5(umt5: bool = False):  # noqa: ANN202
    import torch
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    torch.manual_seed(0)
    cfg = (UMT5Config if umt5 else T5Config)(
        vocab_size=128, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8, decoder_start_token_id=0)
    return (UMT5EncoderModel if umt5 else T5EncoderModel)(cfg).eval()


def _wan_vae(wan22: bool = False):  # noqa: ANN202
    from diffusers import AutoencoderKLWan

    if wan22:
        return AutoencoderKLWan(base_dim=3, z_dim=48, in_channels=12, out_channels=12,
                                is_residual=True, patch_size=2, latents_mean=[0.0] * 48,
                                latents_std=[1.0] * 48, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                                scale_factor_spatial=16, scale_factor_temporal=4,
                                temperal_downsample=[False, True, True])
    return AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True])


def wan_t2v():  # noqa: ANN201
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    torch.manual_seed(0)
    vae = _wan_vae()
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16,
        out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
    return WanPipeline(tokenizer=t5_tokenizer(), text_encoder=_t5(umt5=True), vae=vae,
                       transformer=transformer,
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))


def wan21_i2v():  # noqa: ANN201
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline, WanTransformer3DModel
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    vae = _wan_vae()
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36,
        out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=32,
        image_dim=4)
    torch.manual_seed(0)
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2,
        image_size=32, intermediate_size=16, patch_size=1)).eval()
    return WanImageToVideoPipeline(
        tokenizer=t5_tokenizer(), text_encoder=_t5(umt5=True), vae=vae, transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), image_encoder=image_encoder,
        image_processor=CLIPImageProcessor(crop_size=32, size=32))


def wan22_ti2v():  # noqa: ANN201
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline, WanTransformer3DModel

    torch.manual_seed(0)
    vae = _wan_vae(wan22=True)
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=48,
        out_channels=48, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
    return WanImageToVideoPipeline(
        tokenizer=t5_tokenizer(), text_encoder=_t5(umt5=True), vae=vae, transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), image_encoder=None,
        image_processor=None, expand_timesteps=True)


def ltx_i2v():  # noqa: ANN201
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXImageToVideoPipeline,
        LTXVideoTransformer3DModel,
    )

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4,
        attention_head_dim=8, cross_attention_dim=32, num_layers=1, caption_channels=32)
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False), upsample_residual=(False,) * 4,
        upsample_factor=(1,) * 4, timestep_conditioning=False, patch_size=1, patch_size_t=1,
        encoder_causal=True, decoder_causal=False)
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    return LTXImageToVideoPipeline(transformer=transformer, vae=vae,
                                   scheduler=FlowMatchEulerDiscreteScheduler(),
                                   text_encoder=_t5(), tokenizer=t5_tokenizer())


def cogvideox_i2v():  # noqa: ANN201
    import torch
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXImageToVideoPipeline,
        CogVideoXTransformer3DModel,
    )

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=8, out_channels=4,
        time_embed_dim=2, text_embed_dim=32, num_layers=1, sample_width=2, sample_height=2,
        sample_frames=9, patch_size=2, temporal_compression_ratio=4, max_text_seq_length=16,
        use_rotary_positional_embeddings=True, use_learned_positional_embeddings=True)
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4, up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8), latent_channels=4, layers_per_block=1,
        norm_num_groups=2, temporal_compression_ratio=4)
    return CogVideoXImageToVideoPipeline(tokenizer=t5_tokenizer(), text_encoder=_t5(), vae=vae,
                                         transformer=transformer,
                                         scheduler=CogVideoXDDIMScheduler())


def pix2pix_edit():  # noqa: ANN201
    """A tiny instruction-following image editor (InstructPix2Pix layout).

    A tiny FLUX.1 Kontext pipeline built the same way did not finish a 2-step call within a
    minute on this CPU, so the editor is tested on this layout; the backend only relies on
    ``model_index.json`` and the ``image``/``prompt`` call.
    """
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerAncestralDiscreteScheduler,
        StableDiffusionInstructPix2PixPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=8,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
        norm_num_groups=4, attention_head_dim=4)
    vae = AutoencoderKL(block_out_channels=(8, 16), in_channels=3, out_channels=3,
                        down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4,
                        norm_num_groups=4)
    text = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, hidden_size=32, intermediate_size=37,
        num_attention_heads=4, num_hidden_layers=2, pad_token_id=0, vocab_size=128,
        max_position_embeddings=77))
    tok = t5_tokenizer()
    tok.model_max_length = 77
    return StableDiffusionInstructPix2PixPipeline(
        vae=vae, text_encoder=text, tokenizer=tok, unet=unet,
        scheduler=EulerAncestralDiscreteScheduler(), safety_checker=None,
        feature_extractor=None, requires_safety_checker=False)


BUILDERS = {"wan-t2v": wan_t2v, "wan21-i2v": wan21_i2v, "wan22-ti2v": wan22_ti2v,
            "ltx-i2v": ltx_i2v, "cogvideox-i2v": cogvideox_i2v, "pix2pix-edit": pix2pix_edit}
"""Family name -> builder."""


def save_tiny(name: str, root: Path) -> Path:
    """Build the tiny pipeline ``name`` and save it under ``root / name``."""
    folder = root / name
    BUILDERS[name]().save_pretrained(folder)
    return folder
