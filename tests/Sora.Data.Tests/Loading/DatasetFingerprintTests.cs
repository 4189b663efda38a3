using Sora.Data.Loading;

namespace Sora.Data.Tests.Loading;

public class DatasetFingerprintTests
{
    [Fact]
    public void Any_change_to_ids_rows_versions_or_order_changes_the_fingerprint()
    {
        ShardInfo[] shards = [new("a.parquet", 10, "v1"), new("b.parquet", 20)];
        var fingerprint = DatasetFingerprint.Of(shards);
        fingerprint.Should().StartWith("sha256:").And.HaveLength(7 + 32);
        DatasetFingerprint.Of([new("a.parquet", 10, "v1"), new("b.parquet", 20)]).Should().Be(fingerprint);

        IEnumerable<ShardInfo[]> changed =
        [
            [new("a.parquet", 11, "v1"), new("b.parquet", 20)],
            [new("a.parquet", 10, "v2"), new("b.parquet", 20)],
            [new("a.parquet", 10), new("b.parquet", 20)],
            [new("b.parquet", 20), new("a.parquet", 10, "v1")],
            [new("a.parquet", 10, "v1")],
            [new("a.parquet", 10, "v1"), new("b.parquet", 20), new("c.parquet", 0)],
        ];
        changed.Select(DatasetFingerprint.Of).Should().OnlyHaveUniqueItems().And.NotContain(fingerprint);
    }
}
