using Sora.Metrics.Charts;

namespace Sora.Metrics.Tests.Charts;

public class BitmapFontTests
{
    [Fact]
    public void Digits_letters_and_number_punctuation_have_glyphs()
    {
        var needed = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-e+ ()%:/_";
        BitmapFont.Characters.Should().Contain(needed.Distinct());
    }

    [Fact]
    public void Every_glyph_but_space_has_ink_and_glyphs_differ()
    {
        var glyphs = BitmapFont.Characters.ToDictionary(c => c, c => BitmapFont.Glyph(c).ToArray());
        glyphs.Where(g => g.Key != ' ').Should().OnlyContain(g => g.Value.Any(p => p));
        glyphs[' '].Should().NotContain(true);
        glyphs.Values.Select(g => string.Concat(g.Select(p => p ? '#' : '.'))).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void Unknown_characters_draw_as_a_question_mark()
    {
        BitmapFont.Glyph('€').ToArray().Should().Equal(BitmapFont.Glyph('?').ToArray());
    }

    [Fact]
    public void Text_width_is_six_pixels_per_character_less_the_last_gap()
    {
        BitmapFont.MeasureWidth("", 1).Should().Be(0);
        BitmapFont.MeasureWidth("1e-3", 1).Should().Be(23);
        BitmapFont.MeasureWidth("1e-3", 2).Should().Be(46);
    }
}
