using Sora.Data.Synthetic;

namespace Sora.Data.Tests.Synthetic;

public class SplitMix64Tests
{
    [Fact]
    public void Matches_the_reference_implementation()
    {
        // Values of Vigna's splitmix64.c seeded with 1234567.
        var random = new SplitMix64(1234567);
        new[] { random.Next(), random.Next(), random.Next(), random.Next(), random.Next() }.Should().Equal(
            6457827717110365317UL, 3203168211198807973UL, 9817491932198370423UL, 4593380528125082431UL, 16408922859458223821UL);
    }

    [Fact]
    public void Bounded_draws_stay_in_range_and_cover_it()
    {
        var random = new SplitMix64(42);
        var seen = new HashSet<long>();
        for (var i = 0; i < 2000; i++)
        {
            var below = random.NextBelow(6);
            below.Should().BeInRange(0, 5);
            var inclusive = random.NextInclusive(-3, 3);
            inclusive.Should().BeInRange(-3, 3);
            seen.Add(inclusive);
        }

        seen.Should().HaveCount(7);
        random.NextInclusive(5, 5).Should().Be(5);
    }

    [Fact]
    public void Item_streams_differ_by_index_and_by_seed()
    {
        var a = SplitMix64.ForItem(1, 0).Next();
        a.Should().Be(SplitMix64.ForItem(1, 0).Next());
        a.Should().NotBe(SplitMix64.ForItem(1, 1).Next());
        a.Should().NotBe(SplitMix64.ForItem(2, 0).Next());
    }
}
