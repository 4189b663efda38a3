using Sora.Cli;

return await SoraCommand.RunAsync(args).ConfigureAwait(false);
