using System.CommandLine;
using Ksml.Tool;

return await KsmlCommand.RunAsync(args);
