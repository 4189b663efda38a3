using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Tests.Stores;

/// <summary>
/// The behaviour every <see cref="ICheckpointStore"/> owes its users, run against each implementation.
/// Object sizes straddle <see cref="BlockSize"/>, which derived classes make small so multi-block and
/// parallel-range paths run with about a megabyte.
/// </summary>
public abstract class CheckpointStoreContractTests
{
    /// <summary>The block (and range) size the store under test was configured with.</summary>
    protected const int BlockSize = 64 << 10;

    private ICheckpointStore? _store;

    protected ICheckpointStore Store => _store ??= CreateStore();

    /// <summary>A fresh, empty store.</summary>
    protected abstract ICheckpointStore CreateStore();

    public static TheoryData<int> Sizes => new() { 0, 1, 4097, BlockSize, BlockSize + 1, (16 * BlockSize) + 123 };

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Put_then_read_round_trips_the_bytes_and_reports_size_and_etag(int size)
    {
        var data = Bytes(size, seed: size);

        var put = await Store.PutBytesAsync("ckpt/step-1/shard-0.bin", data);

        put.Name.Should().Be("ckpt/step-1/shard-0.bin");
        put.Size.Should().Be(size);
        put.ETag.Should().NotBeNullOrEmpty();
        (await Store.ReadAllBytesAsync("ckpt/step-1/shard-0.bin")).Should().Equal(data);
        var properties = await Store.GetPropertiesAsync("ckpt/step-1/shard-0.bin");
        properties.Should().NotBeNull();
        properties!.Size.Should().Be(size);
        properties.ETag.Should().Be(put.ETag);
    }

    [Fact]
    public async Task Reading_in_small_pieces_returns_the_same_bytes_as_reading_whole()
    {
        var data = Bytes((5 * BlockSize) + 77, seed: 9);
        await Store.PutBytesAsync("big", data);

        await using var stream = await Store.OpenReadAsync("big");
        var copy = new MemoryStream();
        var piece = new byte[1000];
        int n;
        while ((n = await stream.ReadAsync(piece)) > 0)
        {
            copy.Write(piece, 0, n);
        }

        copy.ToArray().Should().Equal(data);
    }

    [Fact]
    public async Task Names_with_spaces_and_non_ascii_characters_round_trip_and_list_verbatim()
    {
        const string name = "runs/my run/ä+b=c&d@e (1)%20.bin";
        await Store.PutBytesAsync(name, Bytes(10, 1));

        (await Store.ReadAllBytesAsync(name)).Should().Equal(Bytes(10, 1));
        (await ListNames("runs/")).Should().Equal(name);
        (await Store.DeleteAsync(name)).Should().BeTrue();
    }

    [Fact]
    public async Task Put_replaces_the_object_and_changes_its_etag()
    {
        var first = await Store.PutBytesAsync("latest", "step-000100"u8.ToArray());
        var second = await Store.PutBytesAsync("latest", "step-000200"u8.ToArray());

        second.ETag.Should().NotBe(first.ETag, "same-length rewrites must still be told apart");
        (await Store.ReadAllBytesAsync("latest")).Should().Equal("step-000200"u8.ToArray());
        (await Store.GetPropertiesAsync("latest"))!.ETag.Should().Be(second.ETag);
    }

    [Theory]
    [InlineData(100)]
    [InlineData((3 * BlockSize) + 1)]
    public async Task An_opened_stream_carries_the_size_and_etag_of_the_version_it_reads(int size)
    {
        var v1 = await Store.PutBytesAsync("latest", Bytes(size, 1));

        await using var stream = await Store.OpenReadAsync("latest");
        await Store.PutBytesAsync("latest", Bytes(size, 2));

        stream.Properties.ETag.Should().Be(v1.ETag);
        stream.Properties.Size.Should().Be(size);
        stream.Properties.Name.Should().Be("latest");
    }

    [Fact]
    public async Task Missing_objects_read_as_not_found_naming_the_object()
    {
        var read = () => Store.OpenReadAsync("nothing/here.bin");

        (await read.Should().ThrowAsync<StoredObjectNotFoundException>().WithMessage("*nothing/here.bin*"))
            .Which.ObjectName.Should().Be("nothing/here.bin");
        (await Store.GetPropertiesAsync("nothing/here.bin")).Should().BeNull();
        (await Store.ExistsAsync("nothing/here.bin")).Should().BeFalse();
    }

    [Fact]
    public async Task List_returns_exactly_the_objects_under_a_prefix_in_name_order()
    {
        string[] names = ["ckpt/step-10/b", "ckpt/step-1/shard-1", "ckpt/step-1/shard-0", "ckpt/step-2/shard-0", "ckpt/latest", "other/x", "ckpt/step-1/sub/deep"];
        var etags = new Dictionary<string, string>();
        foreach (var (name, i) in names.Select((n, i) => (n, i)))
        {
            etags[name] = (await Store.PutBytesAsync(name, Bytes(i + 1, i))).ETag;
        }

        (await ListNames("ckpt/step-1/")).Should().Equal("ckpt/step-1/shard-0", "ckpt/step-1/shard-1", "ckpt/step-1/sub/deep");
        (await ListNames("ckpt/step-1")).Should().Equal("ckpt/step-1/shard-0", "ckpt/step-1/shard-1", "ckpt/step-1/sub/deep", "ckpt/step-10/b");
        (await ListNames("")).Should().Equal(names.Order(StringComparer.Ordinal));
        (await ListNames("nope/")).Should().BeEmpty();
        await foreach (var item in Store.ListAsync("ckpt/"))
        {
            item.ETag.Should().Be(etags[item.Name], $"listing and put must agree on the ETag of {item.Name}");
            item.Size.Should().Be(Array.IndexOf(names, item.Name) + 1);
        }
    }

    [Fact]
    public async Task Delete_removes_the_object_and_reports_whether_one_existed()
    {
        await Store.PutBytesAsync("a/b", Bytes(3, 3));

        (await Store.DeleteAsync("a/b")).Should().BeTrue();
        (await Store.DeleteAsync("a/b")).Should().BeFalse();
        (await Store.ExistsAsync("a/b")).Should().BeFalse();
        (await ListNames("a/")).Should().BeEmpty();
    }

    [Fact]
    public async Task Create_only_put_succeeds_once_and_then_fails_leaving_the_first_content()
    {
        var created = await Store.PutBytesAsync("commit", Bytes(5, 1), PutCondition.IfNotExists);

        var again = () => Store.PutBytesAsync("commit", Bytes(5, 2), PutCondition.IfNotExists);

        (await again.Should().ThrowAsync<PreconditionFailedException>().WithMessage("*commit*")).Which.ObjectName.Should().Be("commit");
        (await Store.ReadAllBytesAsync("commit")).Should().Equal(Bytes(5, 1));
        (await Store.GetPropertiesAsync("commit"))!.ETag.Should().Be(created.ETag);
    }

    [Fact]
    public async Task If_match_replaces_with_the_current_etag_and_fails_with_a_stale_one()
    {
        var v1 = await Store.PutBytesAsync("pointer", "step-1"u8.ToArray());
        var v2 = await Store.PutBytesAsync("pointer", "step-2"u8.ToArray(), PutCondition.IfMatch(v1.ETag));

        var stale = () => Store.PutBytesAsync("pointer", "step-3"u8.ToArray(), PutCondition.IfMatch(v1.ETag));

        await stale.Should().ThrowAsync<PreconditionFailedException>().WithMessage("*pointer*");
        (await Store.ReadAllBytesAsync("pointer")).Should().Equal("step-2"u8.ToArray());
        (await Store.GetPropertiesAsync("pointer"))!.ETag.Should().Be(v2.ETag);
    }

    [Fact]
    public async Task If_match_on_a_missing_object_fails()
    {
        var put = () => Store.PutBytesAsync("absent", Bytes(1, 1), PutCondition.IfMatch("\"0x1\""));

        await put.Should().ThrowAsync<PreconditionFailedException>().WithMessage("*absent*");
        (await Store.ExistsAsync("absent")).Should().BeFalse();
    }

    [Fact]
    public async Task A_multi_block_put_can_be_conditional()
    {
        var big = Bytes((3 * BlockSize) + 5, 4);
        var created = await Store.PutBytesAsync("big-commit", big, PutCondition.IfNotExists);

        var again = () => Store.PutBytesAsync("big-commit", Bytes((3 * BlockSize) + 5, 5), PutCondition.IfNotExists);
        await again.Should().ThrowAsync<PreconditionFailedException>();
        await Store.PutBytesAsync("big-commit", Bytes(7, 6), PutCondition.IfMatch(created.ETag));

        (await Store.ReadAllBytesAsync("big-commit")).Should().Equal(Bytes(7, 6));
    }

    [Fact]
    public async Task Concurrent_create_only_puts_have_exactly_one_winner()
    {
        var attempts = Enumerable.Range(0, 8).Select(i => Task.Run(() => Store.PutBytesAsync("leader", Bytes(16, i), PutCondition.IfNotExists))).ToArray();

        var outcomes = await Outcomes(attempts);

        outcomes.Count(o => o is StoredObject).Should().Be(1);
        outcomes.Count(o => o is PreconditionFailedException).Should().Be(7);
        var winner = Array.FindIndex(outcomes, o => o is StoredObject);
        (await Store.ReadAllBytesAsync("leader")).Should().Equal(Bytes(16, winner));
    }

    [Fact]
    public async Task Concurrent_compare_and_swap_from_one_etag_has_exactly_one_winner()
    {
        var start = await Store.PutBytesAsync("latest", Bytes(16, 100));
        var attempts = Enumerable.Range(0, 8).Select(i => Task.Run(() => Store.PutBytesAsync("latest", Bytes(16, i), PutCondition.IfMatch(start.ETag)))).ToArray();

        var outcomes = await Outcomes(attempts);

        outcomes.Count(o => o is StoredObject).Should().Be(1);
        outcomes.Count(o => o is PreconditionFailedException).Should().Be(7);
        var winner = Array.FindIndex(outcomes, o => o is StoredObject);
        (await Store.ReadAllBytesAsync("latest")).Should().Equal(Bytes(16, winner));
        (await Store.GetPropertiesAsync("latest"))!.ETag.Should().Be(((StoredObject)outcomes[winner]).ETag);
    }

    [Fact]
    public async Task A_put_whose_source_fails_midway_leaves_the_previous_object_and_nothing_partial()
    {
        var old = Bytes((2 * BlockSize) + 3, 1);
        await Store.PutBytesAsync("shard", old);

        var put = () => Store.PutAsync("shard", new FailingStream(Bytes(8 * BlockSize, 2), failAfter: (5 * BlockSize) + 10));

        await put.Should().ThrowAsync<IOException>().WithMessage("*source failed*");
        (await Store.ReadAllBytesAsync("shard")).Should().Equal(old);
        (await ListNames("")).Should().Equal("shard");
    }

    [Fact]
    public async Task A_cancelled_put_leaves_the_previous_object()
    {
        await Store.PutBytesAsync("shard", Bytes(100, 1));
        using var cancel = new CancellationTokenSource();

        var put = () => Store.PutAsync("shard", new FailingStream(Bytes(8 * BlockSize, 2), failAfter: 3 * BlockSize, onFail: cancel.Cancel), cancellationToken: cancel.Token);

        await put.Should().ThrowAsync<OperationCanceledException>();
        (await Store.ReadAllBytesAsync("shard")).Should().Equal(Bytes(100, 1));
        (await ListNames("")).Should().Equal("shard");
    }

    public static TheoryData<string> BadNames => new()
    {
        "", "../escape", "a/../../etc/passwd", "a/..", "/absolute", "C:/windows", "a\\b", "a//b", "a/", "dir/./x", "tab\there", "nul\0byte", "line\nbreak", ".sora-tmp-x", "d/.sora-lock-y", "trailing.",
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task Bad_names_are_rejected_by_every_operation_with_the_name_in_the_message(string name)
    {
        var printable = name.Replace("\t", "\\u0009", StringComparison.Ordinal).Replace("\0", "\\u0000", StringComparison.Ordinal).Replace("\n", "\\u000A", StringComparison.Ordinal);
        var expected = $"*'{printable}'*";

        await FluentActions.Awaiting(() => Store.PutBytesAsync(name, Bytes(1, 1))).Should().ThrowAsync<ArgumentException>().WithMessage(expected);
        await FluentActions.Awaiting(() => Store.OpenReadAsync(name)).Should().ThrowAsync<ArgumentException>().WithMessage(expected);
        await FluentActions.Awaiting(() => Store.GetPropertiesAsync(name)).Should().ThrowAsync<ArgumentException>().WithMessage(expected);
        await FluentActions.Awaiting(() => Store.DeleteAsync(name)).Should().ThrowAsync<ArgumentException>().WithMessage(expected);
        (await ListNames("")).Should().BeEmpty();
    }

    protected Task<List<string>> ListNames(string prefix) => ListNamesOf(Store, prefix);

    protected static async Task<List<string>> ListNamesOf(ICheckpointStore store, string prefix)
    {
        var names = new List<string>();
        await foreach (var item in store.ListAsync(prefix))
        {
            names.Add(item.Name);
        }

        return names;
    }

    protected static byte[] Bytes(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static async Task<object[]> Outcomes(Task<StoredObject>[] attempts)
    {
        var outcomes = new object[attempts.Length];
        for (var i = 0; i < attempts.Length; i++)
        {
            try
            {
                outcomes[i] = await attempts[i];
            }
            catch (PreconditionFailedException e)
            {
                outcomes[i] = e;
            }
        }

        return outcomes;
    }

    /// <summary>A source that yields its bytes, then fails (like a disk error or a producer crash) after <c>failAfter</c>.</summary>
    protected sealed class FailingStream(byte[] data, int failAfter, Action? onFail = null) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter)
            {
                if (onFail is not null)
                {
                    onFail();
                    throw new OperationCanceledException("source cancelled");
                }

                throw new IOException("source failed");
            }

            var n = Math.Min(Math.Min(count, failAfter - _position), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
