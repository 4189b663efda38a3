using Sora.Cli;

return await SoraCommand.Create().Parse(args).InvokeAsync().ConfigureAwait(false);
