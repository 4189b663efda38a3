using Sora.Cluster.Coordinator;

namespace Sora.Cluster.Tests.Coordinator;

/// <summary>Job events written by a thread of their own: each line stamped when it was reported, all of them written by the time it is disposed.</summary>
public sealed class WriterJobEventsTests
{
    [Fact]
    public void Every_event_is_written_in_order_with_its_time_by_the_time_the_writer_is_disposed()
    {
        using var output = new StringWriter();
        var events = new WriterJobEvents(output);
        for (var i = 0; i < 500; i++)
        {
            events.Report($"event {i}");
        }

        events.Dispose();
        events.Dispose();
        events.Report("after the end: dropped");
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Select(l => l[(l.IndexOf(']', StringComparison.Ordinal) + 2)..].TrimEnd('\r')).Should().Equal(Enumerable.Range(0, 500).Select(i => $"event {i}"));
        lines.Should().OnlyContain(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\[\d\d:\d\d:\d\d\.\d\d\d\] "));
    }
}
