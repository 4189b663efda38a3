using Azure;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;

namespace Sora.Data.Storage;

/// <summary>
/// A container and a name prefix in Azure Blob storage, as a job's <c>data.path</c> or a CLI option names them:
/// <c>az://&lt;container&gt;/&lt;prefix&gt;</c> (the account comes from the connection string in
/// <c>AZURE_STORAGE_CONNECTION_STRING</c>) or a URL, <c>https://&lt;account&gt;.blob.core.windows.net/&lt;container&gt;/&lt;prefix&gt;</c>
/// (or Azurite's path-style <c>http://127.0.0.1:&lt;port&gt;/devstoreaccount1/...</c>), optionally with a SAS query.
/// Secrets never appear in the location: they come from the environment or from the identity the process runs as.
/// Checkpoint stores (Sora.Checkpoint) and datasets (<see cref="AzureBlobShardSource"/>) both take their locations from here.
/// </summary>
public sealed record AzureBlobLocation
{
    /// <summary>The scheme of container-and-prefix locations whose account comes from a connection string.</summary>
    public const string Scheme = "az://";

    /// <summary>The environment variable holding the connection string (the Azure CLI's name for it).</summary>
    public const string ConnectionStringVariable = "AZURE_STORAGE_CONNECTION_STRING";

    /// <summary>The service version every client sends: Azurite 3.35 accepts up to this one without --skipApiVersionCheck.</summary>
    public const BlobClientOptions.ServiceVersion DefaultServiceVersion = BlobClientOptions.ServiceVersion.V2025_11_05;

    /// <summary>The environment variable holding the account key for <see cref="AzureCredentialKind.SharedKey"/>.</summary>
    public const string AccountKeyVariable = "AZURE_STORAGE_KEY";

    private AzureBlobLocation(string text, Uri? accountEndpoint, string container, string prefix, string? sas, AzureCredentialKind credential, string? accountName)
    {
        Text = text;
        AccountEndpoint = accountEndpoint;
        Container = container;
        Prefix = prefix;
        SasQuery = sas;
        Credential = credential;
        AccountName = accountName;
    }

    /// <summary>The location as written, less any SAS query (fit for messages).</summary>
    public string Text { get; }

    /// <summary>The account's blob endpoint for URL locations; null for az:// ones (the connection string names it).</summary>
    public Uri? AccountEndpoint { get; }

    /// <summary>The container.</summary>
    public string Container { get; }

    /// <summary>The name prefix inside the container: empty, or ending with '/'.</summary>
    public string Prefix { get; }

    /// <summary>How requests are authorized (never <see cref="AzureCredentialKind.Auto"/>: it is resolved on parsing).</summary>
    public AzureCredentialKind Credential { get; }

    private string? SasQuery { get; }

    private string? AccountName { get; }

    /// <summary>True when <paramref name="path"/> names blob storage (az://, http:// or https://) rather than a local path.</summary>
    public static bool IsBlobLocation(string? path) =>
        path is not null && (path.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            || path.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            || path.StartsWith("http://", StringComparison.OrdinalIgnoreCase));

    /// <summary>Parses a location; errors name the location (without its SAS) and what is wrong with it.</summary>
    public static AzureBlobLocation Parse(string location, AzureCredentialKind credential = AzureCredentialKind.Auto)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        if (location.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            var rest = location[Scheme.Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var container = slash < 0 ? rest : rest[..slash];
            var prefix = slash < 0 ? string.Empty : rest[(slash + 1)..];
            if (credential is not (AzureCredentialKind.Auto or AzureCredentialKind.ConnectionString))
            {
                throw new ArgumentException($"'{location}': an {Scheme} location takes its account from {ConnectionStringVariable}; for credential '{Kebab(credential)}' write the container's URL, https://<account>.blob.core.windows.net/{container}/{prefix}", nameof(location));
            }

            return new AzureBlobLocation(location, null, CheckContainer(location, container), NormalizePrefix(location, prefix), null, AzureCredentialKind.ConnectionString, null);
        }

        if (!Uri.TryCreate(location, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException($"'{Redacted(location)}' is not a blob location: use {Scheme}<container>/<prefix> or https://<account>.blob.core.windows.net/<container>/<prefix>", nameof(location));
        }

        var parts = new BlobUriBuilder(uri);
        var sas = string.IsNullOrEmpty(uri.Query) ? null : uri.Query.TrimStart('?');
        var text = uri.GetLeftPart(UriPartial.Path);
        if (string.IsNullOrEmpty(parts.BlobContainerName))
        {
            throw new ArgumentException($"'{text}' names no container: append /<container>/<prefix> to the account URL", nameof(location));
        }

        var resolved = credential switch
        {
            AzureCredentialKind.Auto => sas is not null && sas.Contains("sig=", StringComparison.Ordinal) ? AzureCredentialKind.Sas : AzureCredentialKind.Default,
            AzureCredentialKind.ConnectionString => throw new ArgumentException($"'{text}': a connection string names its own account; write {Scheme}{parts.BlobContainerName}/{parts.BlobName} instead of a URL", nameof(credential)),
            AzureCredentialKind.Sas when sas is null || !sas.Contains("sig=", StringComparison.Ordinal) => throw new ArgumentException($"'{text}': credential 'sas' needs the SAS query (?sv=...&sig=...) on the URL", nameof(credential)),
            _ => credential,
        };
        var endpoint = new BlobUriBuilder(uri) { BlobContainerName = string.Empty, BlobName = string.Empty, Sas = null, Query = null }.ToUri();
        return new AzureBlobLocation(text, endpoint, CheckContainer(text, parts.BlobContainerName), NormalizePrefix(text, parts.BlobName), sas, resolved, parts.AccountName);
    }

    /// <summary>Parses a credential name as YAML and the CLI write it: auto, connection-string, default, shared-key, sas, anonymous.</summary>
    public static AzureCredentialKind ParseCredential(string name) => name switch
    {
        "auto" => AzureCredentialKind.Auto,
        "connection-string" => AzureCredentialKind.ConnectionString,
        "default" => AzureCredentialKind.Default,
        "shared-key" => AzureCredentialKind.SharedKey,
        "sas" => AzureCredentialKind.Sas,
        "anonymous" => AzureCredentialKind.Anonymous,
        _ => throw new ArgumentException($"unknown Azure credential '{name}': use one of {string.Join(", ", CredentialNames)}", nameof(name)),
    };

    /// <summary>The credential names <see cref="ParseCredential"/> accepts.</summary>
    public static IReadOnlyList<string> CredentialNames { get; } = ["auto", "connection-string", "default", "shared-key", "sas", "anonymous"];

    /// <summary>
    /// A client of the container and how it is authorized, in words (never the secret). <paramref name="environment"/>
    /// reads the variables that hold secrets (the process environment by default; tests pass their own).
    /// </summary>
    public (BlobContainerClient Container, string Authentication) OpenContainer(BlobClientOptions? options = null, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        options ??= new BlobClientOptions(DefaultServiceVersion);
        string Secret(string variable) => environment(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"'{Text}' with credential '{Kebab(Credential)}' needs the environment variable {variable}, which is not set");
        var container = AccountEndpoint is null ? null : new Uri($"{AccountEndpoint.GetLeftPart(UriPartial.Path).TrimEnd('/')}/{Container}");
        return Credential switch
        {
            AzureCredentialKind.ConnectionString => (ContainerFromConnectionString(Secret(ConnectionStringVariable), Container, options), "connection string"),
            AzureCredentialKind.Default => (new BlobContainerClient(RequireHttps(container!), new DefaultAzureCredential(), options), $"token credential ({nameof(DefaultAzureCredential)})"),
            AzureCredentialKind.SharedKey => (new BlobContainerClient(container!, new StorageSharedKeyCredential(AccountName ?? throw new InvalidOperationException($"'{Text}' names no account for Shared Key"), Secret(AccountKeyVariable)), options), $"Shared Key of account '{AccountName}'"),
            AzureCredentialKind.Sas => (new BlobContainerClient(container!, new AzureSasCredential(SasQuery!), options), "SAS token"),
            _ => (new BlobContainerClient(container!, options), "anonymous"),
        };
    }

    /// <summary>
    /// A container client from an Azure Storage connection string (account key, SAS or <c>UseDevelopmentStorage=true</c>),
    /// parsed by the SDK. The error for a malformed one never repeats the string, which holds a secret.
    /// </summary>
    public static BlobContainerClient ContainerFromConnectionString(string connectionString, string containerName, BlobClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ValidateContainerName(containerName);
        try
        {
            return new BlobContainerClient(connectionString, containerName, options ?? new BlobClientOptions(DefaultServiceVersion));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new ArgumentException($"the Azure Storage connection string for container '{containerName}' is not valid ({e.GetType().Name}); expected e.g. 'DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...' or 'UseDevelopmentStorage=true'", nameof(connectionString));
        }
    }

    /// <summary>Throws unless <paramref name="containerName"/> follows Azure's rules (3-63 of a-z, 0-9, '-'; no leading, trailing or double '-').</summary>
    public static void ValidateContainerName(string containerName)
    {
        ArgumentNullException.ThrowIfNull(containerName);
        var valid = containerName.Length is >= 3 and <= 63
            && containerName.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            && containerName[0] != '-' && containerName[^1] != '-'
            && !containerName.Contains("--", StringComparison.Ordinal);
        if (!valid)
        {
            throw new ArgumentException($"invalid container name '{containerName}': use 3-63 lowercase letters, digits and single '-' between them", nameof(containerName));
        }
    }

    /// <summary>Returns <paramref name="containerUri"/> when it is https: the SDK never sends a bearer token in the clear.</summary>
    public static Uri RequireHttps(Uri containerUri)
    {
        ArgumentNullException.ThrowIfNull(containerUri);
        return containerUri.Scheme == Uri.UriSchemeHttps
            ? containerUri
            : throw new ArgumentException($"a token credential needs an https endpoint (got {containerUri.GetLeftPart(UriPartial.Path)}): the SDK never sends a bearer token in the clear; use a connection string or Shared Key for Azurite over http", nameof(containerUri));
    }

    /// <inheritdoc/>
    public override string ToString() => Text;

    /// <summary>The kebab-case name of a credential kind, as YAML and the CLI write it.</summary>
    public static string Kebab(AzureCredentialKind kind) => CredentialNames[(int)kind];

    private static string CheckContainer(string location, string container)
    {
        try
        {
            ValidateContainerName(container);
            return container;
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"'{location}': {e.Message.Split(" (Parameter", 2)[0]}", nameof(location), e);
        }
    }

    private static string NormalizePrefix(string location, string prefix)
    {
        prefix = prefix.Trim('/');
        if (prefix.Length == 0)
        {
            return string.Empty;
        }

        try
        {
            ObjectName.ValidatePrefix(prefix + "/");
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"'{location}': {e.Message.Split(" (Parameter", 2)[0]}", nameof(location), e);
        }

        return prefix + "/";
    }

    /// <summary>A path or location fit for messages: a URL's query (a SAS holds a signature) left out.</summary>
    public static string Redacted(string location) => (location ?? throw new ArgumentNullException(nameof(location))).Contains("://", StringComparison.Ordinal) ? location.Split('?', 2)[0] : location;
}
