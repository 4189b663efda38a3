namespace Sora.Data.Parquet.Metadata;

/// <summary>Page kinds (the numbers are the format's).</summary>
internal enum PageType
{
    DataPage = 0,
    IndexPage = 1,
    DictionaryPage = 2,
    DataPageV2 = 3,
}
