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
    private readonly Dictionary<(long T, long H, long W), Tensor> _positions = [];

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
            var sequence = embeddings.Unsqueeze(1);
            var keys = Tensor.Ones([n, 1, 1, 1], ScalarType.Bool);
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

        var x = PatchEmbedding.Forward(Patchifier.Patchify(input.Latent)).Add(Positions(gt, gh, gw));
        var text = EncodeText(input.CaptionTokens, input.CaptionEmbeddings);
        var textVector = TextProjection.Forward(text.Pooled);
        var conditioning = new Conditioning(TimestepEmbedder.Forward(input.Timesteps).Add(textVector));
        if (input.CleanFrames is not null)
        {
            var clean = TimestepEmbedder.Forward(Tensor.Zeros([shape[0]])).Add(textVector);
            conditioning = conditioning with { Clean = clean, CleanTokens = CleanTokenMask(input.CleanFrames, gt, gh * gw) };
        }

        foreach (var block in Blocks)
        {
            // Through Invoke: a block is a sharding unit under FSDP (gathered for its forward, then freed).
            x = block.Invoke(() => block.Forward(x, conditioning, input.AttentionMask, text));
        }

        var output = Patchifier.Unpatchify(Final.Forward(x, conditioning), frames, height, width);
        return scope.MoveToOuter(output);
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

    private Tensor Positions(long t, long h, long w)
    {
        if (!_positions.TryGetValue((t, h, w), out var positions))
        {
            positions = PositionEncoding3d.ForGrid(t, h, w, Config.Hidden).DetachFromDisposeScope();
            _positions[(t, h, w)] = positions;
        }

        return positions;
    }
}
