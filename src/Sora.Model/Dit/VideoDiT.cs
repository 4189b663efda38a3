using Sora.Model.Text;
using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Dit;

/// <summary>
/// The video diffusion transformer: spacetime patches of a latent become tokens with a 3-D sine-cosine
/// position encoding; adaLN-Zero blocks conditioned on the timestep and the caption denoise them; a
/// zero-initialised final layer and unpatchify give the velocity prediction (ε − x0) at the latent's size.
/// </summary>
public sealed class VideoDiT : Module
{
    private readonly Dictionary<(long T, long H, long W, Device Device), Tensor> _positions = [];

    public VideoDiT(DiTConfig config, int vocabularySize)
    {
        Config = config.Validate();
        VocabularySize = vocabularySize;
        Patchifier = new Patchifier(config.LatentChannels, config.Patch);
        PatchEmbedding = RegisterModule("x_embedder", new Linear(config.PatchVolume, config.Hidden));
        Init.XavierUniform_(PatchEmbedding.Weight);
        Init.Zeros_(PatchEmbedding.Bias!);
        TimestepEmbedder = RegisterModule("t_embedder", new TimestepEmbedder(config.Hidden, config.TimestepFrequencies));
        TextEncoder = RegisterModule("text_encoder", new TextEncoder(vocabularySize, config));
        if (!config.TrainTextEncoder)
        {
            foreach (var parameter in TextEncoder.Parameters())
            {
                parameter.RequiresGrad = false;
            }
        }

        TextProjection = RegisterModule("y_embedder", new Linear(config.TextDim, config.Hidden));
        Blocks = RegisterModule("blocks", new ModuleList<DiTBlock>(Enumerable.Range(0, config.Depth).Select(_ => new DiTBlock(config))));
        Final = RegisterModule("final_layer", new FinalLayer(config.Hidden, config.PatchVolume));
    }

    public DiTConfig Config { get; }

    public int VocabularySize { get; }

    public Patchifier Patchifier { get; }

    public Linear PatchEmbedding { get; }

    public TimestepEmbedder TimestepEmbedder { get; }

    public TextEncoder TextEncoder { get; }

    public Linear TextProjection { get; }

    public ModuleList<DiTBlock> Blocks { get; }

    public FinalLayer Final { get; }

    /// <summary>The dtype the model computes in: its parameters' (bf16 while FSDP gathers them in bf16).</summary>
    public ScalarType ComputeDType => PatchEmbedding.Weight.DType;

    /// <summary>Tokens a latent of (T, H, W) becomes.</summary>
    public long TokenCount(long frames, long height, long width)
    {
        var (t, h, w) = Patchifier.Grid(frames, height, width);
        return t * h * w;
    }

    /// <summary>The caption conditioning for a batch: from tokens through the text encoder, or precomputed vectors.</summary>
    public TextConditioning EncodeText(Tensor? tokens, Tensor? embeddings)
    {
        if (embeddings is not null)
        {
            if (embeddings.Dim != 2 || embeddings.Size(1) != Config.TextDim)
            {
                throw new ArgumentException(
                    $"precomputed caption embeddings must be (N, {Config.TextDim}), got [{string.Join(", ", embeddings.Shape)}]", nameof(embeddings));
            }

            if (Config.CrossAttention)
            {
                throw new ArgumentException("a model with cross-attention needs caption tokens, not only pooled embeddings", nameof(embeddings));
            }

            using var scope = Tensor.NewDisposeScope();
            var n = embeddings.Size(0);
            embeddings = embeddings.To(ComputeDType);
            var sequence = embeddings.Unsqueeze(1);
            var keys = Tensor.Ones([n, 1, 1, 1], ScalarType.Bool, embeddings.Device);
            return new TextConditioning(scope.MoveToOuter(embeddings.Alias()), scope.MoveToOuter(sequence), scope.MoveToOuter(keys));
        }

        ArgumentNullException.ThrowIfNull(tokens, "caption tokens or embeddings");
        return TextEncoder.Forward(tokens);
    }

    /// <summary>Predicts the velocity ε − x0 for each latent, same shape as <see cref="DiTInput.Latent"/>.</summary>
    public Tensor Forward(DiTInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = Tensor.NewDisposeScope();
        var shape = input.Latent.Shape;
        var (frames, height, width) = (shape[2], shape[3], shape[4]);
        var (gt, gh, gw) = Patchifier.Grid(frames, height, width);

        // The model computes in its parameters' dtype (bf16 under FSDP mixed precision) and answers in the latent's.
        var x = PatchEmbedding.Forward(Patchifier.Patchify(input.Latent.To(ComputeDType)));
        x = x.Add(Positions(gt, gh, gw, input.Latent.Device).To(x.DType));
        var text = EncodeText(input.CaptionTokens, input.CaptionEmbeddings);
        var cleanTokens = input.CleanFrames is null ? null : CleanTokenMask(input.CleanFrames, gt, gh * gw);
        var conditioning = Condition(input.Timesteps, text, cleanTokens, segments: null);
        var output = Patchifier.Unpatchify(Denoise(x, conditioning, input.AttentionMask, text), frames, height, width);
        return scope.MoveToOuter(output.To(input.Latent.DType));
    }

    /// <summary>
    /// Predicts the velocity for a packed batch: (S, L, C·pt·ph·pw), token for token like <see cref="PackedDiTInput.Tokens"/>
    /// (padding tokens carry no meaning). Each sample's tokens give the same prediction as <see cref="Forward"/> on that
    /// sample alone: attention is block-diagonal by segment, positions come from the position ids, and each token is
    /// modulated by its own sample's timestep and caption.
    /// </summary>
    public Tensor ForwardPacked(PackedDiTInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = Tensor.NewDisposeScope();
        var (s, l) = CheckPacked(input);
        var positions = PositionEncoding3d.ForPositions(input.Positions.Reshape(s * l, 3), Config.Hidden).Reshape(s, l, Config.Hidden);
        var x = PatchEmbedding.Forward(input.Tokens.To(ComputeDType));
        x = x.Add(positions.To(x.DType));
        var text = EncodeText(input.CaptionTokens, input.CaptionEmbeddings);
        var segments = input.SegmentIds.Clamp(min: 0L);
        var conditioning = Condition(input.Timesteps, text, input.CleanTokens?.Unsqueeze(2), segments);

        // Padding (−1) attends only to padding, so no row of the mask is empty.
        var mask = input.SegmentIds.Unsqueeze(2).Eq(input.SegmentIds.Unsqueeze(1)).Unsqueeze(1);
        return scope.MoveToOuter(Denoise(x, conditioning, mask, Config.CrossAttention ? PackCaptions(text, input.SegmentIds) : text).To(input.Tokens.DType));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var cached in _positions.Values)
            {
                cached.Dispose();
            }

            _positions.Clear();
        }

        base.Dispose(disposing);
    }

    // The adaLN conditioning: timestep plus caption vector per sample, and the t = 0 variant when some tokens are clean.
    private Conditioning Condition(Tensor timesteps, TextConditioning text, Tensor? cleanTokens, Tensor? segments)
    {
        var textVector = TextProjection.Forward(text.Pooled);
        var conditioning = new Conditioning(TimestepEmbedder.Forward(timesteps).Add(textVector), Segments: segments);
        if (cleanTokens is not null)
        {
            var clean = TimestepEmbedder.Forward(Tensor.Zeros([timesteps.Size(0)], device: timesteps.Device)).Add(textVector);
            conditioning = conditioning with { Clean = clean, CleanTokens = cleanTokens };
        }

        return conditioning;
    }

    // The blocks and the final layer: tokens in, patch values out. Plain and packed batches share it.
    private Tensor Denoise(Tensor x, Conditioning conditioning, Tensor? mask, TextConditioning text)
    {
        foreach (var block in Blocks)
        {
            // Through Invoke: a block is a sharding unit under FSDP (gathered for its forward, then freed).
            x = block.Invoke(() => block.Forward(x, conditioning, mask, text));
        }

        return Final.Forward(x, conditioning);
    }

    // Cross-attention in a packed batch: every sequence sees all K captions laid end to end, and each token may attend
    // only to its own sample's caption tokens (padding tokens to all, so no row is empty).
    private static TextConditioning PackCaptions(TextConditioning text, Tensor segmentIds)
    {
        var (k, captionLength, dim) = (text.Sequence.Size(0), text.Sequence.Size(1), text.Sequence.Size(2));
        var (s, l) = (segmentIds.Size(0), segmentIds.Size(1));
        var keys = k * captionLength;
        var sequence = text.Sequence.Reshape(1, keys, dim).Expand(s, keys, dim);
        var owner = Tensor.Arange(keys, device: segmentIds.Device).FloorDivide(captionLength).Reshape(1, 1, keys);
        var usable = text.KeyMask.Expand(k, 1, 1, captionLength).Reshape(1, 1, keys);
        var mask = segmentIds.Unsqueeze(2).Eq(owner).LogicalAnd(usable).LogicalOr(segmentIds.Eq(-1L).Unsqueeze(2));
        return new TextConditioning(text.Pooled, sequence, mask.Reshape(s, 1, l, keys));
    }

    private (long Sequences, long Length) CheckPacked(PackedDiTInput input)
    {
        var tokens = input.Tokens.Shape;
        if (tokens.Length != 3 || tokens[2] != Config.PatchVolume)
        {
            throw new ArgumentException($"packed tokens must be (S, L, {Config.PatchVolume}), got [{string.Join(", ", tokens)}]", nameof(input));
        }

        var (s, l) = (tokens[0], tokens[1]);
        if (!input.SegmentIds.Shape.AsSpan().SequenceEqual([s, l]) || input.SegmentIds.DType != ScalarType.Int64)
        {
            throw new ArgumentException($"segment ids must be int64 ({s}, {l}) like the tokens, got [{string.Join(", ", input.SegmentIds.Shape)}] {input.SegmentIds.DType}", nameof(input));
        }

        if (!input.Positions.Shape.AsSpan().SequenceEqual([s, l, 3]))
        {
            throw new ArgumentException($"position ids must be ({s}, {l}, 3), got [{string.Join(", ", input.Positions.Shape)}]", nameof(input));
        }

        if (input.CleanTokens is not null && !input.CleanTokens.Shape.AsSpan().SequenceEqual([s, l]))
        {
            throw new ArgumentException($"clean tokens must be ({s}, {l}), got [{string.Join(", ", input.CleanTokens.Shape)}]", nameof(input));
        }

        var samples = input.Timesteps.Size(0);
        var (low, high) = (input.SegmentIds.Min().ItemLong(), input.SegmentIds.Max().ItemLong());
        if (low < -1 || high >= samples)
        {
            throw new ArgumentException($"segment ids run from {low} to {high} but there are {samples} timesteps (one per sample); ids must be in [-1, {samples - 1}]", nameof(input));
        }

        return (s, l);
    }

    // A token is clean when every latent frame its patch covers is clean.
    private Tensor CleanTokenMask(Tensor cleanFrames, long gridFrames, long tokensPerFrame)
    {
        var n = cleanFrames.Size(0);
        var frames = cleanFrames.Size(1);
        var pt = Config.Patch.T;
        var padded = gridFrames * pt == frames ? cleanFrames : cleanFrames.Pad([0, (gridFrames * pt) - frames], value: 1);
        var perToken = padded.To(ScalarType.Int32).Reshape(n, gridFrames, pt).Amin([2]).To(ScalarType.Bool);
        return perToken.Unsqueeze(2).Expand(n, gridFrames, tokensPerFrame).Reshape(n, gridFrames * tokensPerFrame, 1);
    }

    private Tensor Positions(long t, long h, long w, Device device)
    {
        if (!_positions.TryGetValue((t, h, w, device), out var positions))
        {
            positions = PositionEncoding3d.ForGrid(t, h, w, Config.Hidden, device).DetachFromDisposeScope();
            _positions[(t, h, w, device)] = positions;
        }

        return positions;
    }
}
