using Ksml.Runtime.Definitions;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Python;
using Ksml.Runtime.Serdes;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;

namespace Ksml.Runtime.Tests.Support;

/// <summary>A generated KSML definition running under Streamiz's TopologyTestDriver with real Python functions.</summary>
public sealed class KsmlDriver : IDisposable
{
    public KsmlDriver(IKsmlDefinition definition, ILoggerFactory? logs = null, Ksml.Runtime.ErrorHandling.KsmlErrorHandler? errors = null)
        : this([definition], logs, errors)
    {
    }

    /// <summary>Several definitions in one topology, as an application running more than one runs them.</summary>
    public KsmlDriver(IReadOnlyList<IKsmlDefinition> definitions, ILoggerFactory? logs = null, Ksml.Runtime.ErrorHandling.KsmlErrorHandler? errors = null)
    {
        var topology = KsmlApplication.BuildTopology(definitions, new PythonFunctionFactory(logs), errors, underTestDriver: true);
        var config = new StreamConfig<StringSerDes, StringSerDes> { ApplicationId = "ksml-test-" + Guid.NewGuid().ToString("N")[..8] };
        Driver = new TopologyTestDriver(topology, config);
    }

    public TopologyTestDriver Driver { get; }

    public TestInputTopic<K, V> Input<K, V>(KsmlTopicDefinition topic) =>
        Driver.CreateInputTopic(topic.Topic, KsmlSerdes.For<K>(topic.KeyType), KsmlSerdes.For<V>(topic.ValueType));

    public TestOutputTopic<K, V> Output<K, V>(KsmlTopicDefinition topic) => Output<K, V>(topic.Topic, topic.KeyType, topic.ValueType);

    public TestOutputTopic<K, V> Output<K, V>(string topic, KsmlDataType keyType, KsmlDataType valueType) =>
        Driver.CreateOutputTopic(topic, TimeSpan.FromSeconds(1), KsmlSerdes.For<K>(keyType), KsmlSerdes.For<V>(valueType));

    public void Dispose() => Driver.Dispose();
}
