using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage;
using Azure.Storage.Sas;
using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Tests.Stores;

/// <summary>The store contract and the Azure-specific paths (blocks, ranges, paging, auth) against a real Azurite.</summary>
public sealed class AzureBlobStoreTests(AzuriteFixture fixture) : CheckpointStoreContractTests, IClassFixture<AzuriteFixture>
{
    private const int ListPageSize = 3;
    private readonly string _container = "c" + Guid.NewGuid().ToString("N");

    private AzuriteProcess Azurite => fixture.Azurite;

    protected override ICheckpointStore CreateStore() => NewStore();

    [Fact]
    public async Task A_multi_block_object_goes_up_as_parallel_put_block_requests_and_one_put_block_list()
    {
        var recorder = new RequestRecorder();
        using var store = NewStore(recorder);
        var data = Bytes((12 * BlockSize) + 5, 1);
        await store.CreateContainerIfMissingAsync();
        recorder.Clear();

        await store.PutBytesAsync("shard", data);

        recorder.Count("PUT", "comp=block&").Should().Be(13);
        recorder.Count("PUT", "comp=blocklist").Should().Be(1);
        recorder.Attempts.Should().NotContain(a => a.Method == "PUT" && a.Uri.Query.Length == 0, "a multi-block object is never sent as one Put Blob");
        recorder.MaxInFlight.Should().BeGreaterThan(1, "blocks are uploaded in parallel");
        (await store.ReadAllBytesAsync("shard")).Should().Equal(data);
    }

    [Fact]
    public async Task A_multi_block_put_whose_condition_already_fails_uploads_no_block()
    {
        var recorder = new RequestRecorder();
        using var store = NewStore(recorder);
        var existing = await store.PutBytesAsync("shard", Bytes(10, 1));
        recorder.Clear();

        var create = () => store.PutBytesAsync("shard", Bytes(5 * BlockSize, 2), PutCondition.IfNotExists);
        var replace = () => store.PutBytesAsync("shard", Bytes(5 * BlockSize, 2), PutCondition.IfMatch("\"0x0\""));

        await create.Should().ThrowAsync<PreconditionFailedException>().WithMessage($"*'shard'*exists with ETag {existing.ETag}*");
        await replace.Should().ThrowAsync<PreconditionFailedException>().WithMessage("*'shard'*If-Match*");
        recorder.Count("PUT", "comp=block").Should().Be(0);
        (await store.ReadAllBytesAsync("shard")).Should().Equal(Bytes(10, 1));
    }

    [Fact]
    public async Task A_one_block_object_goes_up_as_a_single_put_blob()
    {
        var recorder = new RequestRecorder();
        using var store = NewStore(recorder);
        await store.CreateContainerIfMissingAsync();
        recorder.Clear();

        await store.PutBytesAsync("small", Bytes(BlockSize, 1));

        recorder.Attempts.Select(a => (a.Method, a.Uri.Query)).Should().Equal([("PUT", string.Empty)]);
    }

    [Theory]
    [InlineData(100)]
    [InlineData((6 * BlockSize) + 7)]
    public async Task An_unseekable_source_of_unknown_length_goes_up_whole_and_reports_its_size(int size)
    {
        using var store = NewStore();
        var data = Bytes(size, 5);

        var put = await store.PutAsync("pipe", new ForwardOnlyStream(data), PutCondition.IfNotExists);

        put.Size.Should().Be(size);
        (await store.GetPropertiesAsync("pipe"))!.ETag.Should().Be(put.ETag);
        (await store.ReadAllBytesAsync("pipe")).Should().Equal(data);
        await FluentActions.Awaiting(() => store.PutAsync("pipe", new ForwardOnlyStream(data), PutCondition.IfNotExists)).Should().ThrowAsync<PreconditionFailedException>();
    }

    [Fact]
    public async Task A_large_object_comes_down_as_parallel_ranged_gets()
    {
        var data = Bytes((10 * BlockSize) + 9, 2);
        var recorder = new RequestRecorder();
        using var store = NewStore(recorder);
        await store.PutBytesAsync("shard", data);
        recorder.Clear();

        (await store.ReadAllBytesAsync("shard")).Should().Equal(data);

        var ranges = recorder.Attempts.Where(a => a.Method == "GET").Select(a => a.Range).ToList();
        ranges.Should().HaveCount(11);
        ranges.Should().OnlyContain(r => r != null && r.StartsWith("bytes=", StringComparison.Ordinal));
        ranges.Should().Contain($"bytes={9 * BlockSize}-{(10 * BlockSize) - 1}").And.Contain($"bytes={10 * BlockSize}-{(10 * BlockSize) + 8}");
        recorder.MaxInFlight.Should().BeGreaterThan(1, "ranges are fetched in parallel");
    }

    [Fact]
    public async Task A_blob_replaced_during_a_ranged_read_fails_instead_of_mixing_versions()
    {
        await Store.PutBytesAsync("shard", Bytes(40 * BlockSize, 1));
        await using var reader = await Store.OpenReadAsync("shard");

        await Store.PutBytesAsync("shard", Bytes(40 * BlockSize, 2));

        var read = () => reader.CopyToAsync(Stream.Null);
        await read.Should().ThrowAsync<PreconditionFailedException>().WithMessage("*shard*changed while it was being read*");
    }

    [Fact]
    public async Task Listing_follows_continuation_markers_across_pages()
    {
        var recorder = new RequestRecorder();
        using var store = NewStore(recorder);
        var names = Enumerable.Range(0, 8).Select(i => $"p/obj-{i}").ToArray();
        foreach (var name in names)
        {
            await store.PutBytesAsync(name, Bytes(1, 1));
        }

        recorder.Clear();

        (await ListNamesOf(store, "p/")).Should().Equal(names);
        recorder.Count("GET", "comp=list").Should().Be(3, "8 objects at 3 per page");
        recorder.Count("GET", "marker=").Should().Be(2);
    }

    [Fact]
    public async Task The_container_is_created_on_first_write_and_a_missing_container_reads_as_empty()
    {
        using var store = NewStore();

        (await ListNamesOf(store, "")).Should().BeEmpty();
        (await store.GetPropertiesAsync("x")).Should().BeNull();
        (await store.DeleteAsync("x")).Should().BeFalse();
        await FluentActions.Awaiting(() => store.OpenReadAsync("x")).Should().ThrowAsync<StoredObjectNotFoundException>();

        await store.PutBytesAsync("x", Bytes(3, 1));

        (await store.CreateContainerIfMissingAsync()).Should().BeFalse("the first put created it");
        (await store.ReadAllBytesAsync("x")).Should().Equal(Bytes(3, 1));
    }

    [Fact]
    public async Task An_account_sas_authorizes_every_operation()
    {
        var sas = new AccountSasBuilder(AccountSasPermissions.All, DateTimeOffset.UtcNow.AddHours(1), AccountSasServices.Blobs, AccountSasResourceTypes.All)
            .ToSasQueryParameters(Azurite.Key).ToString();
        using var store = new AzureBlobStore(Azurite.BlobEndpoint, _container, new AzureSasCredential(sas), Options());

        await store.PutBytesAsync("a/b", Bytes((3 * BlockSize) + 1, 1));

        (await store.ReadAllBytesAsync("a/b")).Should().Equal(Bytes((3 * BlockSize) + 1, 1));
        (await ListNamesOf(store, "a/")).Should().Equal("a/b");
        (await store.DeleteAsync("a/b")).Should().BeTrue();
        store.Authentication.Should().Be("SAS token");
    }

    [Fact]
    public async Task A_container_sas_authorizes_its_permissions_only()
    {
        using var owner = NewStore();
        await owner.CreateContainerIfMissingAsync();
        string ContainerSas(BlobContainerSasPermissions permissions)
        {
            var builder = new BlobSasBuilder(permissions, DateTimeOffset.UtcNow.AddHours(1)) { BlobContainerName = _container, Resource = "c" };
            return builder.ToSasQueryParameters(Azurite.Key).ToString();
        }

        var writer = ContainerSas(BlobContainerSasPermissions.Read | BlobContainerSasPermissions.Create | BlobContainerSasPermissions.Write | BlobContainerSasPermissions.Delete | BlobContainerSasPermissions.List);
        var reader = ContainerSas(BlobContainerSasPermissions.Read | BlobContainerSasPermissions.List);
        using var writing = new AzureBlobStore(new Uri($"{Azurite.BlobEndpoint}/{_container}?{writer}"), Options());
        using var reading = new AzureBlobStore(Azurite.BlobEndpoint, _container, new AzureSasCredential(reader), Options());

        await writing.PutBytesAsync("w", Bytes(10, 1));
        (await reading.ReadAllBytesAsync("w")).Should().Equal(Bytes(10, 1));
        (await ListNamesOf(reading, "")).Should().Equal("w");
        writing.Location.Should().NotContain("sig=", "the SAS is a secret and Location goes into messages");

        var denied = await FluentActions.Awaiting(() => reading.PutBytesAsync("w", Bytes(10, 2))).Should().ThrowAsync<CheckpointStoreException>().WithMessage("*'w'*403*");
        denied.Which.HttpStatus.Should().Be(403);
        denied.Which.ErrorCode.Should().NotBeNullOrEmpty();
        denied.Which.ObjectName.Should().Be("w");
        denied.Which.Message.Should().NotContain(reader, "no secret goes into an error message");
    }

    [Fact]
    public async Task A_wrong_account_key_fails_with_the_status_the_error_code_and_the_blob_name()
    {
        var wrongKey = new StorageSharedKeyCredential(AzuriteProcess.DevelopmentAccountName, Convert.ToBase64String(new byte[64]));
        using var store = new AzureBlobStore(Azurite.BlobEndpoint, _container, wrongKey, Options());

        var put = () => store.PutBytesAsync("ckpt/shard-3", Bytes(10, 1));

        var failure = (await put.Should().ThrowAsync<CheckpointStoreException>().WithMessage("*ckpt/shard-3*403*")).Which;
        failure.HttpStatus.Should().Be(403);
        failure.ErrorCode.Should().Be("AuthorizationFailure");
        failure.ObjectName.Should().Be("ckpt/shard-3");
    }

    [Fact]
    public async Task A_malformed_connection_string_fails_without_repeating_it()
    {
        const string secret = "AccountName=x;AccountKey=not*base64*secret";
        var open = () => AzureBlobStore.FromConnectionString(secret, _container, Options());

        open.Should().Throw<ArgumentException>().WithMessage($"*connection string for container '{_container}'*")
            .Which.Message.Should().NotContain("not*base64*secret");
    }

    [Fact]
    public async Task Every_retry_is_signed_afresh()
    {
        var options = Options();
        var faults = new FirstAttemptFault();
        options.AddPolicy(faults, HttpPipelinePosition.PerRetry);
        using var store = new AzureBlobStore(Azurite.BlobEndpoint, _container, Azurite.Key, options);

        await store.PutBytesAsync("retried", Bytes(10, 1));

        (await store.ReadAllBytesAsync("retried")).Should().Equal(Bytes(10, 1));
        faults.Injected.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task A_connection_string_with_an_explicit_blob_endpoint_reaches_azurite()
    {
        using var store = AzureBlobStore.FromConnectionString(Azurite.ConnectionString, _container, Options());

        await store.PutBytesAsync("cs", Bytes(100, 1));

        (await store.ReadAllBytesAsync("cs")).Should().Equal(Bytes(100, 1));
        store.Location.Should().Be($"{Azurite.BlobEndpoint}/{_container}");
    }

    internal static AzureBlobStoreOptions Options(RequestRecorder? recorder = null)
    {
        var options = new AzureBlobStoreOptions { BlockSize = BlockSize, DownloadRangeSize = BlockSize, Parallelism = 4, ListPageSize = ListPageSize };
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(100);
        options.Retry.MaxRetries = 3;
        if (recorder is not null)
        {
            options.AddPolicy(recorder, HttpPipelinePosition.PerRetry);
        }

        return options;
    }

    private AzureBlobStore NewStore(RequestRecorder? recorder = null) =>
        new(Azurite.BlobEndpoint, _container, Azurite.Key, Options(recorder));

    /// <summary>A source that can only be read forward and does not know its length, like a pipe.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : MemoryStream(data, writable: false)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }
    }

    /// <summary>
    /// Fails the first attempt of every request after spoiling its signature, as a connection reset would end it:
    /// the retry only succeeds if the signing policy signs it again.
    /// </summary>
    private sealed class FirstAttemptFault : HttpPipelineSynchronousPolicy
    {
        private readonly HashSet<string> _seen = [];
        private int _injected;

        public int Injected => Volatile.Read(ref _injected);

        public override void OnSendingRequest(HttpMessage message)
        {
            lock (_seen)
            {
                if (!_seen.Add(message.Request.ClientRequestId))
                {
                    return;
                }
            }

            Interlocked.Increment(ref _injected);
            message.Request.Headers.SetValue("Authorization", "SharedKey devstoreaccount1:c3BvaWxlZA==");
            throw new IOException("injected connection reset");
        }
    }
}
