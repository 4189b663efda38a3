using Sora.Data.Parquet;

namespace Sora.Data.Tests.Parquet;

public class ColumnBufferTests
{
    private static readonly ParquetSchema Schema = new(
        ParquetField.List("embedding", ParquetField.Float("element")),
        ParquetField.String("caption", optional: true));

    [Fact]
    public void List_rows_map_to_their_values_with_null_and_empty_lists_told_apart()
    {
        using var buffer = new ColumnBuffer(Schema.Column("embedding"));
        buffer.AddList<float>([1f, 2f]);
        buffer.AddNull();
        buffer.AddList<float>([]);
        buffer.AddList<float>([3f]);

        buffer.RowCount.Should().Be(4);
        buffer.ValueCount.Should().Be(3);
        buffer.DefinitionLevels.ToArray().Should().Equal(2, 2, 0, 1, 2);
        buffer.RepetitionLevels.ToArray().Should().Equal(0, 1, 0, 0, 0);
        buffer.GetRows().Should().Equal(new ValueRange(0, 2, false), new ValueRange(2, 0, true), new ValueRange(2, 0, false), new ValueRange(2, 1, false));
    }

    [Fact]
    public void Optional_scalars_map_rows_to_values_skipping_nulls()
    {
        using var buffer = new ColumnBuffer(Schema.Column("caption"));
        buffer.AddNull();
        buffer.Add("a red circle");
        buffer.AddNull();
        buffer.Add("a blue square");

        buffer.GetRows().Should().Equal(new ValueRange(0, 0, true), new ValueRange(0, 1, false), new ValueRange(1, 0, true), new ValueRange(1, 1, false));
        buffer.GetString(1).Should().Be("a blue square");
        buffer.TotalBinaryBytes.Should().Be(25);
    }

    [Fact]
    public void Values_of_the_wrong_type_are_refused_naming_the_column()
    {
        using var buffer = new ColumnBuffer(Schema.Column("embedding"));

        var act = () => buffer.AddList<double>([1.0]);

        act.Should().Throw<ArgumentException>().WithMessage("column 'embedding.list.element' holds Float values, not Double*");
        buffer.LevelCount.Should().Be(0, "nothing was added");
    }
}
