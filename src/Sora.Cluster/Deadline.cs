namespace Sora.Cluster;

/// <summary>
/// What an actor's named timer delivers. Each deadline has its own timer, named after it; this one message type serves
/// them all: <c>Timers.StartSingleTimer(name, new Deadline(name), after)</c>, answered by
/// <c>Receive&lt;Deadline&gt;(d =&gt; d.Name == name, …)</c> in the states that wait for it.
/// </summary>
internal sealed record Deadline(string Name);
