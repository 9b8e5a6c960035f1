def test_tiny_backends_load(tiny_dirs):
    from cliplens import load_encoder

    for kind, path in tiny_dirs.items():
        enc = load_encoder(str(path), device="cpu")
        v = enc.encode_texts(["a red circle", "x"])
        assert v.shape == (2, enc.embed_dim), kind
