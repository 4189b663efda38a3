namespace Sora.Torch.Native;

/// <summary>Unary op codes; mirror <c>enum sora_unary_op</c> in ops.h.</summary>
internal enum UnaryOp
{
    Neg = 0, Abs, Exp, Log, Sqrt, Rsqrt, Sin, Cos, Tanh, Sigmoid, Relu, Silu, Gelu, GeluTanh, Square, Sign, Floor,
    Ceil, Round, Reciprocal, LogicalNot, Erf, Log1p, Expm1, IsNan, IsFinite, Erfinv,
}

/// <summary>Binary op codes; mirror <c>enum sora_binary_op</c> in ops.h.</summary>
internal enum BinaryOp
{
    Add = 0, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr,
    Remainder, FloorDivide, Atan2, RSub, RDiv, RPow,
}
