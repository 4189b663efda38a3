using Sora.Torch.Distributed;

namespace Sora.Torch.Tests.Distributed;

public sealed class TcpStoreTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Clients_share_keys_counters_and_deletions_through_the_server()
    {
        using var server = TcpStore.CreateServer("127.0.0.1", 0, Timeout);
        server.Port.Should().BePositive();
        using var a = TcpStore.Connect("127.0.0.1", server.Port, Timeout);
        using var b = TcpStore.Connect("127.0.0.1", server.Port, Timeout);

        a.Set("greeting", "hello, rank 1");
        b.GetString("greeting").Should().Be("hello, rank 1");
        var big = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        b.Set("blob", big);
        a.Get("blob").Should().Equal(big);
        a.Set("empty", ReadOnlySpan<byte>.Empty);
        b.Get("empty").Should().BeEmpty();

        a.Add("counter", 2).Should().Be(2);
        b.Add("counter", 3).Should().Be(5);

        b.Contains("greeting").Should().BeTrue();
        a.Delete("greeting").Should().BeTrue();
        b.Contains("greeting").Should().BeFalse();
        a.Delete("greeting").Should().BeFalse();
    }

    [Fact]
    public void Prefixed_views_do_not_see_each_others_keys()
    {
        using var server = TcpStore.CreateServer("127.0.0.1", 0, Timeout);
        using var one = server.WithPrefix("job1");
        using var two = server.WithPrefix("job2");
        one.Set("rank0", "a");
        two.Contains("rank0").Should().BeFalse();
        server.Contains("job1/rank0").Should().BeTrue();
    }

    [Fact]
    public void Waiting_for_a_key_nobody_sets_fails_naming_the_key()
    {
        using var server = TcpStore.CreateServer("127.0.0.1", 0, Timeout);
        var act = () => server.Wait(["never-set"], TimeSpan.FromMilliseconds(300));
        act.Should().Throw<CollectiveException>().WithMessage($"rendezvous store wait 'never-set' at 127.0.0.1:{server.Port} failed*");
    }

    [Fact]
    public async Task Wait_returns_once_another_client_sets_the_key()
    {
        using var server = TcpStore.CreateServer("127.0.0.1", 0, Timeout);
        using var client = TcpStore.Connect("127.0.0.1", server.Port, Timeout);
        var setter = Task.Run(() =>
        {
            Thread.Sleep(200);
            client.Set("ready", "1");
        });
        server.Wait(["ready"], Timeout);
        await setter.WaitAsync(Timeout);
    }

    [Fact]
    public void Connecting_to_a_port_with_no_server_fails_within_the_timeout()
    {
        int port;
        using (var probe = TcpStore.CreateServer("127.0.0.1", 0, Timeout))
        {
            port = probe.Port; // free again once the server is gone
        }

        var act = () => TcpStore.Connect("127.0.0.1", port, TimeSpan.FromSeconds(1));
        act.Should().Throw<CollectiveException>().WithMessage($"could not connect to the rendezvous store at 127.0.0.1:{port} within 1 s*");
    }
}
