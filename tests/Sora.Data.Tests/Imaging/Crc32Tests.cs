using System.Text;
using Sora.Imaging;

namespace Sora.Data.Tests.Imaging;

public class Crc32Tests
{
    [Fact]
    public void Matches_the_standard_check_values()
    {
        Crc32.Compute("123456789"u8).Should().Be(0xCBF43926u);
        Crc32.Compute([]).Should().Be(0u);
        Crc32.Compute("IEND"u8).Should().Be(0xAE426082u, "every PNG ends with this CRC");
    }

    [Fact]
    public void Updating_in_pieces_equals_computing_at_once()
    {
        var data = Encoding.ASCII.GetBytes("The quick brown fox jumps over the lazy dog");
        Crc32.Compute(data).Should().Be(0x414FA339u);
        Crc32.Update(Crc32.Compute(data.AsSpan(0, 10)), data.AsSpan(10)).Should().Be(0x414FA339u);
    }
}
