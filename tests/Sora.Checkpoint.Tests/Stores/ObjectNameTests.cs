using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Tests.Stores;

public sealed class ObjectNameTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("ckpt/step-000100/model/shard-00003-of-00008.safetensors")]
    [InlineData("x/.hidden")]
    [InlineData("with space/ä€ (1).bin")]
    [InlineData("a.b/c.d")]
    public void Ordinary_names_are_valid(string name)
    {
        ObjectName.IsValid(name).Should().BeTrue();
        FluentActions.Invoking(() => ObjectName.Validate(name)).Should().NotThrow();
    }

    [Theory]
    [InlineData("", "*'': it is empty*")]
    [InlineData("a/../b", "*'a/../b': it contains '..'*")]
    [InlineData("/etc/passwd", "*'/etc/passwd': it is an absolute path*")]
    [InlineData("C:/x", "*'C:/x': it is an absolute path*")]
    [InlineData("a\\b", "*'a\\b': it contains a backslash*")]
    [InlineData("a//b", "*'a//b': it has an empty segment*")]
    [InlineData("a/", "*'a/': it ends with '/'*")]
    [InlineData("bell\u0007", "*'bell\\u0007': it contains the control character U+0007*")]
    [InlineData("d/.sora-tmp-x", "*segment '.sora-tmp-x' starts with '.sora-'*")]
    [InlineData("x./y", "*segment 'x.' ends with '.'*")]
    public void Bad_names_fail_with_the_name_and_the_rule(string name, string message)
    {
        ObjectName.IsValid(name).Should().BeFalse();
        FluentActions.Invoking(() => ObjectName.Validate(name)).Should().Throw<ArgumentException>().WithMessage(message);
    }

    [Fact]
    public void Overlong_names_fail()
    {
        FluentActions.Invoking(() => ObjectName.Validate(new string('a', ObjectName.MaxLength + 1))).Should().Throw<ArgumentException>().WithMessage("*1025 characters long (at most 1024)*");
    }

    [Theory]
    [InlineData("")]
    [InlineData("ckpt/")]
    [InlineData("ckpt/step-1")]
    [InlineData("ckpt/step.")]
    public void Prefixes_may_be_empty_or_end_mid_segment(string prefix) =>
        FluentActions.Invoking(() => ObjectName.ValidatePrefix(prefix)).Should().NotThrow();

    [Theory]
    [InlineData("../")]
    [InlineData("/abs")]
    [InlineData("a//")]
    public void Prefixes_follow_the_name_rules(string prefix) =>
        FluentActions.Invoking(() => ObjectName.ValidatePrefix(prefix)).Should().Throw<ArgumentException>().WithMessage($"*'{prefix}'*");
}
