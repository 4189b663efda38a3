using Sora.Data.Loading;

namespace Sora.Data.Tests.Loading;

public class DataCursorTests
{
    [Fact]
    public void A_cursor_round_trips_through_json_with_named_fields()
    {
        var cursor = new DataCursor(ulong.MaxValue - 3, 4, "sha256:0123abcd", Epoch: 2, SamplesConsumed: 12345678901);
        var json = cursor.ToJson();
        json.Should().Contain("\"epoch\":2").And.Contain("\"samples_consumed\":12345678901").And.Contain("\"fingerprint\":\"sha256:0123abcd\"");
        DataCursor.FromJson(json).Should().Be(cursor);
    }

    [Theory]
    [InlineData("{\"epoch\":1,\"seed\":1,\"shard_window\":1,\"fingerprint\":\"x\"}", "*'samples_consumed' is missing*")]
    [InlineData("{\"epoch\":\"one\",\"samples_consumed\":0,\"seed\":1,\"shard_window\":1,\"fingerprint\":\"x\"}", "*'epoch' must be a Int64*")]
    [InlineData("{\"epoch\":-1,\"samples_consumed\":0,\"seed\":1,\"shard_window\":1,\"fingerprint\":\"x\"}", "*epoch (-1)*must be >= 0*")]
    [InlineData("[1, 2]", "*expected a JSON object*")]
    [InlineData("{\"epoch\":", "*not valid JSON*")]
    public void Bad_json_names_the_field_at_fault(string json, string message)
    {
        var act = () => DataCursor.FromJson(json);
        act.Should().Throw<FormatException>().WithMessage(message);
    }
}
