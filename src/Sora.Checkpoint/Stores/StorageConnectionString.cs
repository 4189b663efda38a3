namespace Sora.Checkpoint.Stores;

/// <summary>
/// An Azure Storage connection string, reduced to what the Blob store needs: the Blob endpoint and a credential.
/// Accepted forms: "UseDevelopmentStorage=true" (Azurite on 127.0.0.1:10000 with the public development
/// account), and key=value lists with AccountName + AccountKey (Shared Key) or SharedAccessSignature, and either
/// BlobEndpoint or DefaultEndpointsProtocol + AccountName (+ EndpointSuffix, default core.windows.net).
/// </summary>
public sealed record StorageConnectionString(Uri BlobEndpoint, BlobCredential Credential)
{
    /// <summary>The development storage account of the Azure emulators (Azurite).</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>The development account's key, published by Microsoft for the emulators; it protects nothing.</summary>
    public const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly string[] KnownKeys =
    [
        "UseDevelopmentStorage", "DevelopmentStorageProxyUri", "DefaultEndpointsProtocol", "AccountName", "AccountKey",
        "BlobEndpoint", "EndpointSuffix", "SharedAccessSignature", "QueueEndpoint", "TableEndpoint", "FileEndpoint",
    ];

    /// <summary>Parses <paramref name="connectionString"/>; errors name the missing or bad key, never the account key's value.</summary>
    public static StorageConnectionString Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException($"storage connection string: '{(part.Length > 40 ? part[..40] + "…" : part)}' is not a Key=Value setting");
            }

            var key = part[..equals].Trim();
            if (!KnownKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                throw new FormatException($"storage connection string: unknown setting '{key}' (known: {string.Join(", ", KnownKeys)})");
            }

            if (!settings.TryAdd(key, part[(equals + 1)..].Trim()))
            {
                throw new FormatException($"storage connection string: setting '{key}' appears twice");
            }
        }

        if (settings.TryGetValue("UseDevelopmentStorage", out var development))
        {
            if (!bool.TryParse(development, out var useDevelopment) || !useDevelopment)
            {
                throw new FormatException($"storage connection string: UseDevelopmentStorage must be 'true', not '{development}'");
            }

            var proxy = settings.TryGetValue("DevelopmentStorageProxyUri", out var p) ? ParseUri(p, "DevelopmentStorageProxyUri") : new Uri("http://127.0.0.1");
            var endpoint = new UriBuilder(proxy.Scheme, proxy.Host, 10000, DevelopmentAccountName).Uri;
            return new StorageConnectionString(endpoint, new SharedKeyCredential(DevelopmentAccountName, DevelopmentAccountKey));
        }

        settings.TryGetValue("AccountName", out var accountName);
        BlobCredential credential;
        if (settings.TryGetValue("SharedAccessSignature", out var sas))
        {
            credential = new SasCredential(sas);
        }
        else if (settings.TryGetValue("AccountKey", out var accountKey))
        {
            if (string.IsNullOrEmpty(accountName))
            {
                throw new FormatException("storage connection string: AccountKey is given but AccountName is missing");
            }

            credential = new SharedKeyCredential(accountName, accountKey);
        }
        else
        {
            throw new FormatException("storage connection string: needs AccountName and AccountKey, or SharedAccessSignature, or UseDevelopmentStorage=true");
        }

        Uri blobEndpoint;
        if (settings.TryGetValue("BlobEndpoint", out var explicitEndpoint))
        {
            blobEndpoint = ParseUri(explicitEndpoint, "BlobEndpoint");
        }
        else
        {
            if (string.IsNullOrEmpty(accountName))
            {
                throw new FormatException("storage connection string: needs BlobEndpoint, or AccountName to derive it from");
            }

            var protocol = settings.TryGetValue("DefaultEndpointsProtocol", out var proto) ? proto.ToLowerInvariant() : "https";
            if (protocol is not ("https" or "http"))
            {
                throw new FormatException($"storage connection string: DefaultEndpointsProtocol must be 'https' or 'http', not '{proto}'");
            }

            var suffix = settings.TryGetValue("EndpointSuffix", out var s) ? s : "core.windows.net";
            blobEndpoint = ParseUri($"{protocol}://{accountName}.blob.{suffix}", "AccountName/EndpointSuffix");
        }

        return new StorageConnectionString(blobEndpoint, credential);
    }

    private static Uri ParseUri(string value, string key) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new FormatException($"storage connection string: {key} '{value}' is not an absolute http(s) URL");
}
