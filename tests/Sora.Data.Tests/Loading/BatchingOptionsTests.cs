using Sora.Data.Loading;

namespace Sora.Data.Tests.Loading;

public class BatchingOptionsTests
{
    [Fact]
    public void Bucketing_is_the_default_and_bad_values_name_their_key()
    {
        new BatchingOptions().Validate().Mode.Should().Be(BatchingMode.Bucket);
        var budget = () => new BatchingOptions { Mode = BatchingMode.Pack, TokenBudget = 0 }.Validate();
        budget.Should().Throw<ArgumentException>().WithMessage("data.batching.token_budget: must be >= 1 (got 0)");
        var mode = () => new BatchingOptions { Mode = (BatchingMode)7 }.Validate();
        mode.Should().Throw<ArgumentException>().WithMessage("data.batching.mode: 7 is not one of bucket, pack");
    }
}
