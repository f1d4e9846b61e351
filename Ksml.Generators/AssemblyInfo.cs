[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Ksml.Compiler.Tests")]
