namespace Sora.Data.Storage;

/// <summary>How an <see cref="AzureBlobLocation"/> authorizes its requests (YAML and CLI spell them in kebab case).</summary>
public enum AzureCredentialKind
{
    /// <summary>az:// locations: the connection string; URLs: their SAS query when they carry one, otherwise <see cref="Default"/>.</summary>
    Auto,

    /// <summary>The connection string in the environment variable <c>AZURE_STORAGE_CONNECTION_STRING</c>.</summary>
    ConnectionString,

    /// <summary>DefaultAzureCredential (Azure.Identity): workload identity, managed identity, the Azure CLI.</summary>
    Default,

    /// <summary>The account key in the environment variable <c>AZURE_STORAGE_KEY</c>.</summary>
    SharedKey,

    /// <summary>The SAS query the URL carries.</summary>
    Sas,

    /// <summary>No authorization (a public container).</summary>
    Anonymous,
}
