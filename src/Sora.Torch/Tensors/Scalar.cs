using Sora.Torch.Native;

namespace Sora.Torch;

/// <summary>A number passed to an op: floating, integral or boolean, as torch's Scalar.</summary>
public readonly struct Scalar : IEquatable<Scalar>
{
    private readonly NativeScalar _value;

    private Scalar(NativeScalar value) => _value = value;

    public bool IsFloatingPoint => _value.Kind == 0;

    public double ToDouble() => _value.Kind == 0 ? _value.D : _value.I;

    public static implicit operator Scalar(double value) => new(new NativeScalar(value, 0, 0));

    public static implicit operator Scalar(float value) => new(new NativeScalar(value, 0, 0));

    public static implicit operator Scalar(long value) => new(new NativeScalar(0, value, 1));

    public static implicit operator Scalar(int value) => new(new NativeScalar(0, value, 1));

    public static implicit operator Scalar(bool value) => new(new NativeScalar(0, value ? 1 : 0, 2));

    internal NativeScalar ToNative() => _value;

    public bool Equals(Scalar other) => _value.Kind == other._value.Kind && _value.D.Equals(other._value.D) && _value.I == other._value.I;

    public override bool Equals(object? obj) => obj is Scalar other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_value.Kind, _value.D, _value.I);

    public static bool operator ==(Scalar left, Scalar right) => left.Equals(right);

    public static bool operator !=(Scalar left, Scalar right) => !left.Equals(right);

    public override string ToString() => _value.Kind switch
    {
        0 => _value.D.ToString("R"),
        1 => _value.I.ToString(),
        _ => (_value.I != 0).ToString(),
    };
}
