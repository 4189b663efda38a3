using System.Globalization;
using System.Text;
using System.Xml.Linq;
using Azure;
using Azure.Core;

namespace Sora.Checkpoint.Stores;

/// <summary>Requests: URLs, sending through the pipeline, ranged Gets, and turning failures into exceptions that name the blob.</summary>
public sealed partial class AzureBlobStore
{
    private async Task<(ReadOnlyMemory<byte> Data, long TotalLength, string ETag, DateTimeOffset LastModified)> GetRangeAsync(string name, long offset, int count, string? ifMatch, CancellationToken cancellationToken)
    {
        using var message = CreateMessage(RequestMethod.Get, name, query: null);
        message.Request.Headers.SetValue("x-ms-range", $"bytes={offset}-{offset + count - 1}");
        if (ifMatch is not null)
        {
            message.Request.Headers.SetValue("If-Match", ifMatch);
        }

        // Buffered inside the pipeline, so a connection lost mid-body is retried like any other failure.
        message.BufferResponse = true;
        var response = await SendAsync(message, "Get Blob", name, cancellationToken).ConfigureAwait(false);
        if (response.Status == 416 && offset == 0)
        {
            // An empty blob has no byte 0 to range over; read it whole.
            using var whole = CreateMessage(RequestMethod.Get, name, query: null);
            whole.BufferResponse = true;
            var wholeResponse = await SendAsync(whole, "Get Blob", name, cancellationToken).ConfigureAwait(false);
            EnsureReadSuccess(wholeResponse, name, ifMatch);
            var wholeData = wholeResponse.Content.ToMemory();
            return (wholeData, wholeData.Length, ETagOf(wholeResponse), LastModifiedOf(wholeResponse));
        }

        EnsureReadSuccess(response, name, ifMatch);
        var data = response.Content.ToMemory();
        var total = (long)data.Length;
        if (response.Status == 206)
        {
            // Content-Range: bytes <first>-<last>/<total>
            var contentRange = response.Headers.TryGetValue("Content-Range", out var r) ? r : string.Empty;
            var slash = contentRange.LastIndexOf('/');
            if (slash < 0 || !long.TryParse(contentRange.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out total))
            {
                throw new CheckpointStoreException($"ranged Get of blob '{name}' in {Location} returned Content-Range '{contentRange}', which has no total length", name, response.Status);
            }
        }

        return (data, total, ETagOf(response), LastModifiedOf(response));
    }

    private void EnsureReadSuccess(Response response, string name, string? ifMatch)
    {
        if (response.Status == 412 && ifMatch is not null)
        {
            throw new PreconditionFailedException($"blob '{name}' in {Location} changed while it was being read (it no longer has ETag {ifMatch})", name, 412, ErrorCodeOf(response));
        }

        EnsureSuccess(response, "Get Blob", name);
    }

    private HttpMessage CreateMessage(RequestMethod method, string? blobName, string? query)
    {
        var url = new StringBuilder(_containerUrl);
        if (blobName is not null)
        {
            foreach (var segment in blobName.Split('/'))
            {
                url.Append('/').Append(Uri.EscapeDataString(segment));
            }
        }

        var parameters = string.Join('&', new[] { query, _sasQuery }.Where(q => !string.IsNullOrEmpty(q)));
        if (parameters.Length > 0)
        {
            url.Append('?').Append(parameters);
        }

        var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(new Uri(url.ToString()));
        message.Request.Headers.SetValue("x-ms-version", _settings.ServiceVersion);
        return message;
    }

    private async Task<Response> SendAsync(HttpMessage message, string operation, string? name, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            return message.Response;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException or IOException)
        {
            // No response at all (connection refused or reset, timeouts): Azure.Core's retry policy has already
            // retried with backoff; AggregateException carries one exception per attempt.
            var attempts = e is AggregateException aggregate ? aggregate.InnerExceptions.Count : 1;
            var cause = e is AggregateException a ? a.InnerExceptions[^1] : e;
            var what = name is null ? Location : $"blob '{name}' in {Location}";
            throw new CheckpointStoreException($"{operation} of {what} failed after {attempts} attempt(s) with no response: {cause.Message}", name, null, null, e);
        }
    }

    private void EnsureSuccess(Response response, string operation, string? name)
    {
        if (response.Status is >= 200 and < 300)
        {
            return;
        }

        var code = ErrorCodeOf(response);
        var detail = string.Empty;
        if (response.ContentStream is { CanSeek: true } body && body.Length > 0)
        {
            try
            {
                detail = XDocument.Load(body).Root?.Element("Message")?.Value.Split('\n')[0].Trim() ?? string.Empty;
            }
            catch (System.Xml.XmlException)
            {
                // Not the service's XML error body (a proxy's page, say): the status and code still say what failed.
            }
        }

        var what = name is null ? Location : $"blob '{name}' in {Location}";
        var message = $"{operation} of {what} failed: HTTP {response.Status} {response.ReasonPhrase}" + (code is null ? string.Empty : $" ({code})") + (detail.Length > 0 && detail != response.ReasonPhrase ? $": {detail}" : string.Empty);
        if (response.Status == 404 && name is not null)
        {
            throw new StoredObjectNotFoundException(message, name, response.Status, code);
        }

        throw new CheckpointStoreException(message, name, response.Status, code);
    }

    private static string? ErrorCodeOf(Response response) => response.Headers.TryGetValue("x-ms-error-code", out var code) ? code : null;

    private static string ETagOf(Response response) => response.Headers.TryGetValue("ETag", out var etag) ? Quote(etag) : string.Empty;

    // Headers carry ETags quoted, List Blobs unquoted; one form makes them comparable.
    private static string Quote(string etag) => etag.Length == 0 || etag.StartsWith('"') ? etag : $"\"{etag}\"";

    private static DateTimeOffset LastModifiedOf(Response response) =>
        response.Headers.TryGetValue("Last-Modified", out var modified) ? DateTimeOffset.Parse(modified, CultureInfo.InvariantCulture) : DateTimeOffset.UtcNow;
}
