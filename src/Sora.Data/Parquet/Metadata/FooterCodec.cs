using Sora.Data.Parquet.Thrift;

namespace Sora.Data.Parquet.Metadata;

/// <summary>Reads and writes the footer's FileMetaData (Thrift compact), checking every count and offset it reads.</summary>
internal static class FooterCodec
{
    /// <summary>Most key/value pairs, row groups or schema elements accepted (guards against absurd counts).</summary>
    public const int MaxListLength = 1 << 20;

    /// <summary>Parses a footer; <paramref name="dataEnd"/> is where the footer starts, so no chunk may reach past it.</summary>
    public static ParquetFileMetadata Read(ReadOnlySpan<byte> footer, long dataEnd)
    {
        var reader = new ThriftCompactReader(footer, "footer");
        var version = 0;
        long? numRows = null;
        List<SchemaElement>? elements = null;
        var rowGroups = new List<RowGroupMetadata>();
        var keyValues = new Dictionary<string, string>(StringComparer.Ordinal);
        string? createdBy = null;

        var saved = reader.BeginStruct();
        while (reader.ReadFieldHeader(out var id, out var type))
        {
            switch (id)
            {
                case 1:
                    version = reader.ReadI32(type);
                    break;
                case 2:
                    var schemaCount = ReadListLength(ref reader, type, ThriftType.Struct, "schema");
                    elements = new List<SchemaElement>(schemaCount);
                    for (var i = 0; i < schemaCount; i++)
                    {
                        elements.Add(ReadSchemaElement(ref reader));
                    }

                    break;
                case 3:
                    numRows = reader.ReadI64(type);
                    break;
                case 4:
                    var groupCount = ReadListLength(ref reader, type, ThriftType.Struct, "row_groups");
                    rowGroups.Capacity = groupCount;
                    for (var i = 0; i < groupCount; i++)
                    {
                        rowGroups.Add(ReadRowGroup(ref reader, i));
                    }

                    break;
                case 5:
                    var pairCount = ReadListLength(ref reader, type, ThriftType.Struct, "key_value_metadata");
                    for (var i = 0; i < pairCount; i++)
                    {
                        var (key, value) = ReadKeyValue(ref reader);
                        keyValues[key] = value ?? string.Empty;
                    }

                    break;
                case 6:
                    createdBy = reader.ReadString(type);
                    break;
                default:
                    reader.Skip(type);
                    break;
            }
        }

        reader.EndStruct(saved);
        if (elements is not { Count: > 0 })
        {
            throw new ParquetFormatException("the footer has no schema");
        }

        if (numRows is not { } rows || rows < 0)
        {
            throw new ParquetFormatException($"the footer's num_rows is missing or negative ({numRows})");
        }

        var schema = SchemaFromElements(elements);
        Validate(schema, rows, rowGroups, dataEnd);
        return new ParquetFileMetadata
        {
            Version = version,
            Schema = schema,
            NumRows = rows,
            RowGroups = rowGroups,
            KeyValues = keyValues,
            CreatedBy = createdBy,
        };
    }

    public static void Write(ThriftCompactWriter writer, ParquetFileMetadata metadata)
    {
        var elements = ElementsFromSchema(metadata.Schema);
        writer.BeginStruct();
        writer.I32Field(1, metadata.Version);
        writer.ListField(2, ThriftType.Struct, elements.Count);
        foreach (var element in elements)
        {
            WriteSchemaElement(writer, element);
        }

        writer.I64Field(3, metadata.NumRows);
        writer.ListField(4, ThriftType.Struct, metadata.RowGroups.Count);
        foreach (var group in metadata.RowGroups)
        {
            WriteRowGroup(writer, group);
        }

        if (metadata.KeyValues.Count > 0)
        {
            writer.ListField(5, ThriftType.Struct, metadata.KeyValues.Count);
            foreach (var (key, value) in metadata.KeyValues)
            {
                writer.BeginStruct();
                writer.StringField(1, key);
                writer.StringField(2, value);
                writer.EndStruct();
            }
        }

        if (metadata.CreatedBy is { } createdBy)
        {
            writer.StringField(6, createdBy);
        }

        // column_orders: TYPE_DEFINED_ORDER for every leaf, so readers trust min_value/max_value.
        writer.ListField(7, ThriftType.Struct, metadata.Schema.Columns.Count);
        for (var i = 0; i < metadata.Schema.Columns.Count; i++)
        {
            writer.BeginStruct();
            writer.StructField(1);
            writer.EndStruct();
            writer.EndStruct();
        }

        writer.EndStruct();
    }

    /// <summary>Writes a Statistics struct as field <paramref name="fieldId"/> (shared with page headers).</summary>
    public static void WriteStatistics(ThriftCompactWriter writer, short fieldId, ColumnStatistics statistics)
    {
        writer.StructField(fieldId);
        if (statistics.NullCount is { } nulls)
        {
            writer.I64Field(3, nulls);
        }

        if (statistics.DistinctCount is { } distinct)
        {
            writer.I64Field(4, distinct);
        }

        if (statistics.Max is { } max)
        {
            writer.BinaryField(5, max);
        }

        if (statistics.Min is { } min)
        {
            writer.BinaryField(6, min);
        }

        writer.EndStruct();
    }

    /// <summary>Reads a Statistics struct (shared with page headers); min_value/max_value win over the deprecated min/max.</summary>
    public static ColumnStatistics ReadStatistics(ref ThriftCompactReader reader)
    {
        byte[]? oldMin = null, oldMax = null, min = null, max = null;
        long? nulls = null, distinct = null;
        var saved = reader.BeginStruct();
        while (reader.ReadFieldHeader(out var id, out var type))
        {
            switch (id)
            {
                case 1:
                    oldMax = reader.ReadBinary(type).ToArray();
                    break;
                case 2:
                    oldMin = reader.ReadBinary(type).ToArray();
                    break;
                case 3:
                    nulls = reader.ReadI64(type);
                    break;
                case 4:
                    distinct = reader.ReadI64(type);
                    break;
                case 5:
                    max = reader.ReadBinary(type).ToArray();
                    break;
                case 6:
                    min = reader.ReadBinary(type).ToArray();
                    break;
                default:
                    reader.Skip(type);
                    break;
            }
        }

        reader.EndStruct(saved);
        return new ColumnStatistics { NullCount = nulls, DistinctCount = distinct, Min = min ?? oldMin, Max = max ?? oldMax };
    }

    private static int ReadListLength(ref ThriftCompactReader reader, ThriftType type, ThriftType elementType, string field)
    {
        var count = reader.ReadListHeader(type, out var actual);
        if (actual != elementType)
        {
            throw reader.Fail($"{field} holds {actual} elements, expected {elementType}");
        }

        if (count > MaxListLength)
        {
            throw reader.Fail($"{field} has {count} entries, more than the {MaxListLength} accepted");
        }

        return count;
    }

    private static SchemaElement ReadSchemaElement(ref ThriftCompactReader reader)
    {
        string? name = null;
        PhysicalType? physical = null;
        Repetition? repetition = null;
        int typeLength = 0, children = 0;
        int? converted = null, logical = null;
        var saved = reader.BeginStruct();
        while (reader.ReadFieldHeader(out var id, out var type))
        {
            switch (id)
            {
                case 1:
                    var value = reader.ReadI32(type);
                    physical = value is >= 0 and <= (int)PhysicalType.FixedLenByteArray ? (PhysicalType)value : throw reader.Fail($"unknown physical type {value}");
                    break;
                case 2:
                    typeLength = reader.ReadI32(type);
                    break;
                case 3:
                    var rep = reader.ReadI32(type);
                    repetition = rep is >= 0 and <= 2 ? (Repetition)rep : throw reader.Fail($"unknown repetition type {rep}");
                    break;
                case 4:
                    name = reader.ReadString(type);
                    break;
                case 5:
                    children = reader.ReadI32(type);
                    break;
                case 6:
                    converted = reader.ReadI32(type);
                    break;
                case 10:
                    logical = ReadLogicalTypeField(ref reader, type);
                    break;
                default:
                    reader.Skip(type);
                    break;
            }
        }

        reader.EndStruct(saved);
        if (name is null)
        {
            throw reader.Fail("a schema element has no name");
        }

        return new SchemaElement(name, physical, typeLength, repetition, children, converted, logical);
    }

    /// <summary>The LogicalType union: which member is set (its field id).</summary>
    private static int? ReadLogicalTypeField(ref ThriftCompactReader reader, ThriftType type)
    {
        if (type != ThriftType.Struct)
        {
            throw reader.Fail($"logicalType is a {type}, expected a struct");
        }

        int? member = null;
        var saved = reader.BeginStruct();
        while (reader.ReadFieldHeader(out var id, out var fieldType))
        {
            member ??= id;
            reader.Skip(fieldType);
        }

        reader.EndStruct(saved);
        return member;
    }

    private static (string Key, string? Value) ReadKeyValue(ref ThriftCompactReader reader)
    {
        string? key = null, value = null;
        var saved = reader.BeginStruct();
        while (reader.ReadFieldHeader(out var id, out var type))
        {
            switch (id)
            {
                case 1:
                    key = reader.ReadString(type);
                    break;
                case 2:
                    value = reader.ReadString(type);
                    break;
                default:
                    reader.Skip(type);
                    break;
            }
        }

        reader.EndStruct(saved);
        return (key ?? throw reader.Fail("a key/value pair has no key"), value);
    }

    private static RowGroupMetadata ReadRowGroup(ref ThriftCompactReader reader, int index)
    {
        var columns = new List<ColumnChunkMetadata>();
        long? numRows = null;
        long totalBytes = 0;
        var saved = reader.BeginStruct();
        while (reader.ReadFieldHeader(out var id, out var type))
        {
            switch (id)
            {
                case 1:
                    var count = ReadListLength(ref reader, type, ThriftType.Struct, $"row group {index} columns");
                    columns.Capacity = count;
                    for (var i = 0; i < count; i++)
                    {
                        columns.Add(ReadColumnChunk(ref reader, index, i));
                    }

                    break;
                case 2:
                    totalBytes = reader.ReadI64(type);
                    break;
                case 3:
                    numRows = reader.ReadI64(type);
                    break;
                default:
                    reader.Skip(type);
                    break;
            }
        }

        reader.EndStruct(saved);
        if (numRows is not { } rows || rows < 0)
        {
            throw ParquetFormatException.At(null, index, null, $"num_rows is missing or negative ({numRows})");
        }

        return new RowGroupMetadata { NumRows = rows, TotalByteSize = totalBytes, Columns = columns };
    }

    private static ColumnChunkMetadata ReadColumnChunk(ref ThriftCompactReader reader, int rowGroup, int column)
    {
        ColumnChunkMetadata? metadata = null;
        string? externalFile = null;
        var saved = reader.BeginStruct();
        while (reader.ReadFieldHeader(out var id, out var type))
        {
            switch (id)
            {
                case 1:
                    externalFile = reader.ReadString(type);
                    break;
                case 3:
                    if (type != ThriftType.Struct)
                    {
                        throw reader.Fail($"meta_data is a {type}, expected a struct");
                    }

                    try
                    {
                        metadata = ReadColumnMetadata(ref reader, rowGroup, column);
                    }
                    catch (ParquetFormatException e)
                    {
                        throw e.WithLocation(null, rowGroup, $"#{column}");
                    }

                    break;
                default:
                    reader.Skip(type);
                    break;
            }
        }

        reader.EndStruct(saved);
        if (externalFile is not null)
        {
            throw ParquetFormatException.At(null, rowGroup, metadata?.DottedPath ?? $"#{column}", $"the chunk lives in another file ('{externalFile}'), which is not supported");
        }

        return metadata ?? throw ParquetFormatException.At(null, rowGroup, $"#{column}", "the column chunk has no meta_data");
    }

    private static ColumnChunkMetadata ReadColumnMetadata(ref ThriftCompactReader reader, int rowGroup, int column)
    {
        PhysicalType? physical = null;
        var encodings = new List<ParquetEncoding>();
        var path = new List<string>();
        CompressionCodec? codec = null;
        long? numValues = null, uncompressed = null, compressed = null, dataOffset = null, dictionaryOffset = null;
        ColumnStatistics? statistics = null;
        var saved = reader.BeginStruct();
        while (reader.ReadFieldHeader(out var id, out var type))
        {
            switch (id)
            {
                case 1:
                    var value = reader.ReadI32(type);
                    physical = value is >= 0 and <= (int)PhysicalType.FixedLenByteArray ? (PhysicalType)value : throw reader.Fail($"unknown physical type {value}");
                    break;
                case 2:
                    var encodingCount = reader.ReadListHeader(type, out var encodingType);
                    for (var i = 0; i < encodingCount; i++)
                    {
                        encodings.Add((ParquetEncoding)reader.ReadI32(encodingType));
                    }

                    break;
                case 3:
                    var pathCount = reader.ReadListHeader(type, out var pathType);
                    if (pathCount > ParquetSchema.MaxDepth)
                    {
                        throw reader.Fail($"path_in_schema has {pathCount} parts, more than {ParquetSchema.MaxDepth}");
                    }

                    for (var i = 0; i < pathCount; i++)
                    {
                        path.Add(reader.ReadString(pathType));
                    }

                    break;
                case 4:
                    var codecValue = reader.ReadI32(type);
                    codec = codecValue is >= 0 and <= (int)CompressionCodec.Lz4Raw
                        ? (CompressionCodec)codecValue
                        : throw ParquetFormatException.At(null, rowGroup, path.Count > 0 ? string.Join('.', path) : $"#{column}", $"unknown compression codec {codecValue}");
                    break;
                case 5:
                    numValues = reader.ReadI64(type);
                    break;
                case 6:
                    uncompressed = reader.ReadI64(type);
                    break;
                case 7:
                    compressed = reader.ReadI64(type);
                    break;
                case 9:
                    dataOffset = reader.ReadI64(type);
                    break;
                case 11:
                    dictionaryOffset = reader.ReadI64(type);
                    break;
                case 12:
                    if (type != ThriftType.Struct)
                    {
                        throw reader.Fail($"statistics is a {type}, expected a struct");
                    }

                    statistics = ReadStatistics(ref reader);
                    break;
                default:
                    reader.Skip(type);
                    break;
            }
        }

        reader.EndStruct(saved);
        var name = path.Count > 0 ? string.Join('.', path) : $"#{column}";
        ParquetFormatException Missing(string field) => ParquetFormatException.At(null, rowGroup, name, $"column metadata lacks {field}");
        return new ColumnChunkMetadata
        {
            PathInSchema = path,
            PhysicalType = physical ?? throw Missing("type"),
            Encodings = encodings,
            Codec = codec ?? throw Missing("codec"),
            NumValues = numValues ?? throw Missing("num_values"),
            TotalUncompressedSize = uncompressed ?? throw Missing("total_uncompressed_size"),
            TotalCompressedSize = compressed ?? throw Missing("total_compressed_size"),
            DataPageOffset = dataOffset ?? throw Missing("data_page_offset"),
            DictionaryPageOffset = dictionaryOffset,
            Statistics = statistics,
        };
    }

    private static ParquetSchema SchemaFromElements(List<SchemaElement> elements)
    {
        var root = elements[0];
        if (root.NumChildren <= 0 || root.NumChildren > elements.Count - 1)
        {
            throw new ParquetFormatException($"the schema root claims {root.NumChildren} children but {elements.Count - 1} elements follow");
        }

        var next = 1;
        var fields = new List<ParquetField>(root.NumChildren);
        for (var i = 0; i < root.NumChildren; i++)
        {
            fields.Add(FieldFromElements(elements, ref next, 1));
        }

        if (next != elements.Count)
        {
            throw new ParquetFormatException($"the schema has {elements.Count - next} elements that belong to no field");
        }

        try
        {
            return new ParquetSchema(fields);
        }
        catch (ArgumentException e)
        {
            throw new ParquetFormatException($"invalid schema: {e.Message}", e);
        }
    }

    private static ParquetField FieldFromElements(List<SchemaElement> elements, ref int next, int depth)
    {
        if (next >= elements.Count)
        {
            throw new ParquetFormatException("the schema ends inside a group (num_children too large)");
        }

        if (depth > ParquetSchema.MaxDepth)
        {
            throw new ParquetFormatException($"the schema nests deeper than {ParquetSchema.MaxDepth}");
        }

        var element = elements[next++];
        var repetition = element.Repetition ?? throw new ParquetFormatException($"schema field '{element.Name}' has no repetition type");
        if (element.Type is { } type)
        {
            if (element.NumChildren > 0)
            {
                throw new ParquetFormatException($"schema field '{element.Name}' has a physical type and {element.NumChildren} children");
            }

            if (type == PhysicalType.FixedLenByteArray && element.TypeLength is <= 0 or > (1 << 24))
            {
                throw new ParquetFormatException($"schema field '{element.Name}': FIXED_LEN_BYTE_ARRAY length {element.TypeLength} is outside 1..{1 << 24}");
            }

            if (type == PhysicalType.Int96)
            {
                throw new ParquetFormatException($"schema field '{element.Name}': INT96 is not supported");
            }

            return new ParquetField(element.Name, repetition, type, element.Kind, type == PhysicalType.FixedLenByteArray ? element.TypeLength : 0);
        }

        if (element.NumChildren <= 0 || element.NumChildren > elements.Count - next)
        {
            throw new ParquetFormatException($"schema group '{element.Name}' claims {element.NumChildren} children but {elements.Count - next} elements follow");
        }

        var children = new List<ParquetField>(element.NumChildren);
        for (var i = 0; i < element.NumChildren; i++)
        {
            children.Add(FieldFromElements(elements, ref next, depth + 1));
        }

        try
        {
            return new ParquetField(element.Name, repetition, null, element.Kind, children: children);
        }
        catch (ArgumentException e)
        {
            throw new ParquetFormatException($"invalid schema field '{element.Name}': {e.Message}", e);
        }
    }

    private static void Validate(ParquetSchema schema, long numRows, List<RowGroupMetadata> rowGroups, long dataEnd)
    {
        long total = 0;
        for (var g = 0; g < rowGroups.Count; g++)
        {
            var group = rowGroups[g];
            total += group.NumRows;
            if (group.Columns.Count != schema.Columns.Count)
            {
                throw ParquetFormatException.At(null, g, null, $"has {group.Columns.Count} column chunks but the schema has {schema.Columns.Count} columns");
            }

            for (var c = 0; c < group.Columns.Count; c++)
            {
                var chunk = group.Columns[c];
                var column = schema.Columns[c];
                void Fail(string problem) => throw ParquetFormatException.At(null, g, column.DottedPath, problem);
                if (chunk.DottedPath != column.DottedPath)
                {
                    Fail($"chunk {c} is for '{chunk.DottedPath}', not for the schema's column '{column.DottedPath}'");
                }

                if (chunk.PhysicalType != column.PhysicalType)
                {
                    Fail($"chunk type {chunk.PhysicalType} differs from the schema's {column.PhysicalType}");
                }

                if (chunk.NumValues < 0 || (column.MaxRepetitionLevel == 0 ? chunk.NumValues != group.NumRows : chunk.NumValues < group.NumRows))
                {
                    Fail($"num_values {chunk.NumValues} does not fit the row group's {group.NumRows} rows");
                }

                if (chunk.TotalCompressedSize <= 0 || chunk.TotalUncompressedSize < 0)
                {
                    Fail($"sizes are out of range (compressed {chunk.TotalCompressedSize}, uncompressed {chunk.TotalUncompressedSize})");
                }

                var start = chunk.StartOffset;
                if (start < 4 || chunk.DataPageOffset < 4 || start > dataEnd || chunk.TotalCompressedSize > dataEnd - start)
                {
                    Fail($"the chunk at offset {start} with {chunk.TotalCompressedSize} bytes lies outside the file's data (bytes 4..{dataEnd})");
                }

                if (chunk.DataPageOffset - start >= chunk.TotalCompressedSize)
                {
                    Fail($"data_page_offset {chunk.DataPageOffset} lies outside the chunk ({start}, {chunk.TotalCompressedSize} bytes)");
                }
            }
        }

        if (total != numRows)
        {
            throw new ParquetFormatException($"the row groups hold {total} rows but the footer says {numRows}");
        }
    }

    private static List<SchemaElement> ElementsFromSchema(ParquetSchema schema)
    {
        var elements = new List<SchemaElement> { new("schema", null, 0, null, schema.Fields.Count, null, null) };
        void Add(ParquetField field)
        {
            var (converted, logical) = field.Logical switch
            {
                LogicalKind.String => ((int?)SchemaElement.ConvertedUtf8, (int?)SchemaElement.LogicalString),
                LogicalKind.List => (SchemaElement.ConvertedList, SchemaElement.LogicalList),
                _ => ((int?)null, (int?)null),
            };
            elements.Add(new SchemaElement(field.Name, field.PhysicalType, field.TypeLength, field.Repetition, field.Children.Count, converted, logical));
            foreach (var child in field.Children)
            {
                Add(child);
            }
        }

        foreach (var field in schema.Fields)
        {
            Add(field);
        }

        return elements;
    }

    private static void WriteSchemaElement(ThriftCompactWriter writer, SchemaElement element)
    {
        writer.BeginStruct();
        if (element.Type is { } type)
        {
            writer.I32Field(1, (int)type);
            if (type == PhysicalType.FixedLenByteArray)
            {
                writer.I32Field(2, element.TypeLength);
            }
        }

        if (element.Repetition is { } repetition)
        {
            writer.I32Field(3, (int)repetition);
        }

        writer.StringField(4, element.Name);
        if (element.Type is null)
        {
            writer.I32Field(5, element.NumChildren);
        }

        if (element.ConvertedType is { } converted)
        {
            writer.I32Field(6, converted);
        }

        if (element.LogicalType is { } logical)
        {
            writer.StructField(10);
            writer.StructField((short)logical);
            writer.EndStruct();
            writer.EndStruct();
        }

        writer.EndStruct();
    }

    private static void WriteRowGroup(ThriftCompactWriter writer, RowGroupMetadata group)
    {
        writer.BeginStruct();
        writer.ListField(1, ThriftType.Struct, group.Columns.Count);
        foreach (var chunk in group.Columns)
        {
            writer.BeginStruct();
            writer.I64Field(2, chunk.StartOffset);
            writer.StructField(3);
            writer.I32Field(1, (int)chunk.PhysicalType);
            writer.ListField(2, ThriftType.I32, chunk.Encodings.Count);
            foreach (var encoding in chunk.Encodings)
            {
                writer.I32Element((int)encoding);
            }

            writer.ListField(3, ThriftType.Binary, chunk.PathInSchema.Count);
            foreach (var part in chunk.PathInSchema)
            {
                writer.StringElement(part);
            }

            writer.I32Field(4, (int)chunk.Codec);
            writer.I64Field(5, chunk.NumValues);
            writer.I64Field(6, chunk.TotalUncompressedSize);
            writer.I64Field(7, chunk.TotalCompressedSize);
            writer.I64Field(9, chunk.DataPageOffset);
            if (chunk.DictionaryPageOffset is { } dictionary)
            {
                writer.I64Field(11, dictionary);
            }

            if (chunk.Statistics is { } statistics)
            {
                WriteStatistics(writer, 12, statistics);
            }

            writer.EndStruct();
            writer.EndStruct();
        }

        writer.I64Field(2, group.TotalByteSize);
        writer.I64Field(3, group.NumRows);
        if (group.Columns.Count > 0)
        {
            writer.I64Field(5, group.Columns[0].StartOffset);
        }

        writer.I64Field(6, group.TotalCompressedSize);
        writer.EndStruct();
    }
}
