using Sora.Data.Packing;

namespace Sora.Data.Tests.Packing;

public class TokenGridTests
{
    [Theory]
    [InlineData(1, 8, 8, 1, 4, 4, 4)]
    [InlineData(4, 5, 7, 1, 2, 2, 4 * 3 * 4)]
    [InlineData(3, 6, 6, 2, 2, 2, 2 * 3 * 3)]
    public void Partial_patches_count_as_tokens(long t, long h, long w, int pt, int ph, int pw, long tokens)
    {
        TokenGrid.ForLatent(t, h, w, (pt, ph, pw)).Tokens.Should().Be(tokens);
    }

    [Fact]
    public void An_empty_latent_is_rejected_with_its_size()
    {
        var act = () => TokenGrid.ForLatent(0, 4, 4, (1, 2, 2));
        act.Should().Throw<ArgumentException>().WithMessage("*(0, 4, 4)*");
    }
}
