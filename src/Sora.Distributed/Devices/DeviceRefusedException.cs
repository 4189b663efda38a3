using Sora.Distributed.Configuration;

namespace Sora.Distributed.Devices;

/// <summary>
/// The device a job asked for cannot be used here, found before anything starts: <see cref="Reason"/> says why and
/// <see cref="Fix"/> what to change. A configuration error: the same job fails the same way until one of them changes.
/// </summary>
public sealed class DeviceRefusedException : ConfigException
{
    public DeviceRefusedException()
    {
    }

    public DeviceRefusedException(string message)
        : base(message)
    {
    }

    public DeviceRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DeviceRefusedException(string setting, string reason, string fix)
        : base($"device: {setting} is refused: {reason}. Fix: {fix}")
    {
        Reason = reason;
        Fix = fix;
    }

    /// <summary>Why the device cannot be used (no CUDA in this build, no device visible, more ranks than devices).</summary>
    public string Reason { get; } = string.Empty;

    /// <summary>What to change so the job runs.</summary>
    public string Fix { get; } = string.Empty;
}
