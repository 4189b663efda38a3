using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Tests.Stores;

public sealed class LocalDirectoryStoreTests : CheckpointStoreContractTests, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sora-store-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    protected override ICheckpointStore CreateStore() => new LocalDirectoryStore(_root);

    [Fact]
    public async Task Objects_are_plain_files_under_the_root()
    {
        await Store.PutBytesAsync("ckpt/step-1/shard-0.bin", Bytes(10, 1));

        File.ReadAllBytes(Path.Combine(_root, "ckpt", "step-1", "shard-0.bin")).Should().Equal(Bytes(10, 1));
        ((LocalDirectoryStore)Store).PathOf("ckpt/step-1/shard-0.bin").Should().Be(Path.Combine(_root, "ckpt", "step-1", "shard-0.bin"));
    }

    [Fact]
    public async Task Deleting_the_last_object_of_a_folder_removes_the_emptied_folders_and_nothing_else()
    {
        await Store.PutBytesAsync("ckpt/step-1/shard-0.bin", Bytes(10, 1));
        await Store.PutBytesAsync("ckpt/step-1/shard-1.bin", Bytes(10, 2));
        await Store.PutBytesAsync("ckpt/step-2/a/shard-0.bin", Bytes(10, 3));
        await Store.PutBytesAsync("ckpt/latest", Bytes(4, 4));

        (await Store.DeleteAsync("ckpt/step-1/shard-0.bin")).Should().BeTrue();
        Directory.Exists(Path.Combine(_root, "ckpt", "step-1")).Should().BeTrue("shard-1 is still in it");
        (await Store.DeleteAsync("ckpt/step-1/shard-1.bin")).Should().BeTrue();
        (await Store.DeleteAsync("ckpt/step-2/a/shard-0.bin")).Should().BeTrue();

        Directory.GetFileSystemEntries(Path.Combine(_root, "ckpt")).Select(Path.GetFileName).Should().Equal(["latest"], "step-1, step-2 and step-2/a were emptied");
        (await Store.DeleteAsync("ckpt/latest")).Should().BeTrue();
        Directory.Exists(_root).Should().BeTrue("the store's root stays");
        Directory.GetFileSystemEntries(_root).Should().BeEmpty();
        await Store.PutBytesAsync("ckpt/step-1/shard-0.bin", Bytes(10, 5));
        (await Store.ReadAllBytesAsync("ckpt/step-1/shard-0.bin")).Should().Equal(Bytes(10, 5), "a removed folder is made again by the next put");
    }

    [Fact]
    public async Task A_put_larger_than_the_writeback_chunk_starts_writeback_on_the_way_and_round_trips()
    {
        var store = new LocalDirectoryStore(_root, new LocalDirectoryStoreOptions { BufferSize = 4096, WritebackBytes = 64 << 10 });
        var data = Bytes((1 << 20) + 12345, 3);

        var stored = await store.PutBytesAsync("big/shard", data);

        stored.Size.Should().Be(data.Length);
        (await store.ReadAllBytesAsync("big/shard")).Should().Equal(data);
        if (OperatingSystem.IsLinux())
        {
            // The hint must really reach the kernel here, or it would silently switch itself off.
            using var file = new FileStream(Path.Combine(_root, "big", "shard"), FileMode.Open, FileAccess.ReadWrite);
            PosixFileCalls.StartWriteback(file.SafeFileHandle, 0, data.Length).Should().BeTrue();
        }
    }

    [Fact]
    public async Task A_failed_put_leaves_no_temporary_file_behind()
    {
        await Store.PutBytesAsync("d/shard", Bytes(10, 1));

        var put = () => Store.PutAsync("d/shard", new FailingStream(Bytes(1 << 20, 2), failAfter: 300_000));
        await put.Should().ThrowAsync<IOException>();

        Directory.GetFiles(Path.Combine(_root, "d")).Select(Path.GetFileName).Should().Equal("shard");
    }

    [Fact]
    public async Task Temporary_and_lock_files_left_by_a_crashed_writer_are_never_listed_or_served()
    {
        await Store.PutBytesAsync("d/shard", Bytes(10, 1), PutCondition.IfNotExists);
        // What a writer killed between write and rename leaves: a temporary file next to the target.
        File.WriteAllBytes(Path.Combine(_root, "d", ".sora-tmp-shard-0123"), Bytes(5, 2));

        (await ListNames("")).Should().Equal("d/shard");
        (await ListNames("d/.sora")).Should().BeEmpty();
        File.Exists(Path.Combine(_root, "d", ".sora-lock-shard")).Should().BeTrue("conditional puts lock through this file");
    }

    [Fact]
    public async Task Files_placed_by_other_tools_are_listed_including_hidden_ones()
    {
        Directory.CreateDirectory(Path.Combine(_root, "x"));
        File.WriteAllBytes(Path.Combine(_root, "x", ".hidden"), Bytes(4, 1));
        File.WriteAllBytes(Path.Combine(_root, "x", "plain"), Bytes(4, 2));

        (await ListNames("x/")).Should().Equal("x/.hidden", "x/plain");
    }

    [Fact]
    public async Task An_open_reader_keeps_reading_the_version_it_opened_while_a_put_replaces_it()
    {
        var old = Bytes(300_000, 1);
        await Store.PutBytesAsync("shard", old);
        await using var reader = await Store.OpenReadAsync("shard");
        var head = new byte[1000];
        await reader.ReadExactlyAsync(head);

        await Store.PutBytesAsync("shard", Bytes(300_000, 2));

        var rest = new MemoryStream();
        await reader.CopyToAsync(rest);
        head.Concat(rest.ToArray()).Should().Equal(old);
        (await Store.ReadAllBytesAsync("shard")).Should().Equal(Bytes(300_000, 2));
    }

    [Fact]
    public async Task A_conditional_put_waits_for_the_lock_held_by_another_writer_and_then_times_out_clearly()
    {
        var store = new LocalDirectoryStore(_root, new LocalDirectoryStoreOptions { LockTimeout = TimeSpan.FromMilliseconds(200) });
        await store.PutBytesAsync("latest", Bytes(4, 1), PutCondition.IfNotExists);
        // Another writer (here: another open file description, which is what flock compares) holds the lock.
        using (new FileStream(Path.Combine(_root, ".sora-lock-latest"), FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            var put = () => store.PutBytesAsync("latest", Bytes(4, 2), PutCondition.IfMatch("\"whatever\""));
            await put.Should().ThrowAsync<CheckpointStoreException>().WithMessage("*lock*latest*");
        }

        var current = await store.GetPropertiesAsync("latest");
        await store.PutBytesAsync("latest", Bytes(4, 3), PutCondition.IfMatch(current!.ETag));
        (await store.ReadAllBytesAsync("latest")).Should().Equal(Bytes(4, 3));
    }
}
