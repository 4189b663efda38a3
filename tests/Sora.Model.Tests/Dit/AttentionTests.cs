using Sora.Model.Dit;
using Sora.Torch;

namespace Sora.Model.Tests.Dit;

public class AttentionTests
{
    [Fact]
    public void Masked_attention_over_a_packed_sequence_equals_separate_attention_per_sample()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(5);
        using var attention = new Attention(32, 4);
        var a = Tensor.Randn([1, 5, 32]);
        var b = Tensor.Randn([1, 3, 32]);
        var c = Tensor.Randn([1, 7, 32]);

        var packed = Tensor.Cat([a, b, c], 1);
        var mask = Tensor.BlockDiag([Tensor.Ones([5, 5]), Tensor.Ones([3, 3]), Tensor.Ones([7, 7])]).To(ScalarType.Bool).Reshape(1, 1, 15, 15);
        var together = attention.Forward(packed, mask: mask);

        var separate = Tensor.Cat([attention.Forward(a), attention.Forward(b), attention.Forward(c)], 1);
        together.AllClose(separate, rtol: 1e-5, atol: 1e-6).Should().BeTrue();

        var unmasked = attention.Forward(packed);
        unmasked.AllClose(separate, rtol: 1e-3, atol: 1e-4).Should().BeFalse("without the mask, samples see each other");
    }

    [Fact]
    public void Cross_attention_only_reads_the_caption_tokens_the_mask_allows()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(6);
        using var attention = new Attention(16, 2, contextDim: 8);
        var x = Tensor.Randn([1, 4, 16]);
        var context = Tensor.Randn([1, 3, 8]);
        var mask = Tensor.FromArray(new[] { true, true, false }).Reshape(1, 1, 1, 3);
        var withPadding = attention.Forward(x, context, mask);
        var changedPadding = Tensor.Cat([context.Narrow(1, 0, 2), Tensor.Randn([1, 1, 8]).Mul(100)], 1);
        attention.Forward(x, changedPadding, mask).AllClose(withPadding, atol: 1e-6).Should().BeTrue();
    }
}
