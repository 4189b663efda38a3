using Azure.Core.Pipeline;

namespace Sora.Checkpoint.Stores;

/// <summary>How requests to Azure Blob storage are authorized: Shared Key, a SAS token, or anonymously.</summary>
public abstract class BlobCredential
{
    private protected BlobCredential()
    {
    }

    /// <summary>No authorization (public containers, or a SAS already in the endpoint).</summary>
    public static BlobCredential Anonymous { get; } = new AnonymousCredential();

    /// <summary>Shared Key: every request is signed with the account key (HMAC-SHA256).</summary>
    public static BlobCredential SharedKey(string accountName, string accountKey) => new SharedKeyCredential(accountName, accountKey);

    /// <summary>A shared access signature, with or without its leading '?', appended to every request URL.</summary>
    public static BlobCredential Sas(string token) => new SasCredential(token);

    /// <summary>The policy that signs each attempt of a request, or null.</summary>
    internal virtual HttpPipelinePolicy? CreateSigningPolicy() => null;

    /// <summary>Query parameters appended to every URL (a SAS), without '?', or empty.</summary>
    internal virtual string QueryParameters => string.Empty;

    private sealed class AnonymousCredential : BlobCredential
    {
        public override string ToString() => "anonymous";
    }
}

/// <summary>An account name and its base64 key, for Shared Key authorization and for signing SAS tokens.</summary>
public sealed class SharedKeyCredential : BlobCredential
{
    /// <summary>Checks the key is base64 (the error never shows the key).</summary>
    public SharedKeyCredential(string accountName, string accountKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountName);
        ArgumentException.ThrowIfNullOrEmpty(accountKey);
        AccountName = accountName;
        try
        {
            Key = Convert.FromBase64String(accountKey);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"the account key of storage account '{accountName}' is not valid base64", nameof(accountKey), e);
        }
    }

    /// <summary>The storage account name.</summary>
    public string AccountName { get; }

    internal byte[] Key { get; }

    internal override HttpPipelinePolicy CreateSigningPolicy() => new SharedKeySigningPolicy(AccountName, Key);

    /// <inheritdoc/>
    public override string ToString() => $"Shared Key of account '{AccountName}'";
}

/// <summary>A shared access signature token (the query string a SAS URL carries).</summary>
public sealed class SasCredential : BlobCredential
{
    /// <summary>Accepts the token with or without its leading '?'.</summary>
    public SasCredential(string token)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        Token = token.TrimStart('?');
        if (!Token.Contains("sig=", StringComparison.Ordinal))
        {
            throw new ArgumentException("the SAS token has no 'sig' parameter (expected the query string of a SAS URL, e.g. 'sv=...&sig=...')", nameof(token));
        }
    }

    /// <summary>The token without its leading '?'.</summary>
    public string Token { get; }

    internal override string QueryParameters => Token;

    /// <inheritdoc/>
    public override string ToString() => "SAS token";
}
