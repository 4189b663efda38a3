using Sora.Torch.NN;

namespace Sora.Torch.Tests.NN;

public class ModuleTests
{
    private sealed class Block : Module<Tensor, Tensor>
    {
        public Block()
        {
            Norm = RegisterModule("norm", new LayerNorm(4));
            Proj = RegisterModule("proj", new Linear(4, 4));
            Scale = RegisterBuffer("scale", Tensor.Full([1], 2.0));
            Cache = RegisterBuffer("cache", Tensor.Zeros([3]), persistent: false);
        }

        public LayerNorm Norm { get; }

        public Linear Proj { get; }

        public Tensor Scale { get; }

        public Tensor Cache { get; }

        public override Tensor Forward(Tensor input) => Proj.Forward(Norm.Forward(input)).Mul(Scale);
    }

    private sealed class Net : Module<Tensor, Tensor>
    {
        public Net()
        {
            Blocks = RegisterModule("blocks", new ModuleList<Block>([new Block(), new Block()]));
            Head = RegisterModule("head", new Sequential(new Linear(4, 8), new Dropout(0.5), new Linear(8, 2, bias: false)));
        }

        public ModuleList<Block> Blocks { get; }

        public Sequential Head { get; }

        public override Tensor Forward(Tensor input)
        {
            var x = input;
            foreach (var block in Blocks)
            {
                x = block.Forward(x);
            }

            return Head.Forward(x);
        }
    }

    [Fact]
    public void Named_parameters_buffers_and_children_use_dotted_paths_in_registration_order()
    {
        using var net = new Net();
        net.NamedParameters().Select(p => p.Name).Should().Equal(
            "blocks.0.norm.weight", "blocks.0.norm.bias", "blocks.0.proj.weight", "blocks.0.proj.bias",
            "blocks.1.norm.weight", "blocks.1.norm.bias", "blocks.1.proj.weight", "blocks.1.proj.bias",
            "head.0.weight", "head.0.bias", "head.2.weight");
        net.NamedBuffers().Select(b => b.Name).Should().Equal("blocks.0.scale", "blocks.0.cache", "blocks.1.scale", "blocks.1.cache");
        net.NamedChildren().Select(c => c.Name).Should().Equal("blocks", "head");
        net.ParameterCount().Should().Be(2 * (4 + 4 + 16 + 4) + (32 + 8) + 16);
        net.Parameters().Should().OnlyContain(p => p.RequiresGrad && p.IsLeaf);
    }

    [Fact]
    public void Train_and_eval_propagate_to_every_descendant_and_switch_dropout()
    {
        using var scope = Tensor.NewDisposeScope();
        using var dropout = new Dropout(0.5);
        using var net = new Sequential(dropout);
        var x = Tensor.Ones([1000]);
        net.Eval();
        dropout.Training.Should().BeFalse();
        net.Forward(x).Equal(x).Should().BeTrue("dropout is the identity in eval mode");

        net.Train();
        dropout.Training.Should().BeTrue();
        var y = net.Forward(x).ToArray<float>();
        y.Should().OnlyContain(v => v == 0 || v == 2, "kept elements are scaled by 1/(1-p)");
        y.Count(v => v == 0).Should().BeInRange(400, 600);
    }

    [Fact]
    public void State_dict_round_trips_into_a_fresh_module_and_reproduces_outputs()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(1);
        using var source = new Net();
        source.Eval();
        RandomState.ManualSeed(2);
        using var target = new Net();
        target.Eval();
        var x = Tensor.Randn([3, 4]);
        source.Forward(x).Equal(target.Forward(x)).Should().BeFalse();

        var state = source.StateDict();
        state.Keys.Should().Contain("blocks.1.scale").And.NotContain("blocks.0.cache", "non-persistent buffers stay out of the state dict");
        target.LoadStateDict(state);

        target.Forward(x).Equal(source.Forward(x)).Should().BeTrue();
        target.Blocks[0].Proj.Weight.SharesStorageWith(source.Blocks[0].Proj.Weight).Should().BeFalse("loading copies values");
    }

    [Fact]
    public void Loading_a_mismatched_state_dict_names_every_problem_and_changes_nothing()
    {
        using var scope = Tensor.NewDisposeScope();
        using var net = new Net();
        var before = net.Head[0].As<Linear>().Weight.Clone();
        var state = new Net().StateDict();
        state.Remove("head.2.weight");
        state["head.0.weight"] = Tensor.Zeros([3, 3]);
        state["extra.weight"] = Tensor.Zeros([1]);

        var act = () => net.LoadStateDict(state);
        act.Should().Throw<InvalidDataException>()
            .WithMessage("*missing key 'head.2.weight'*")
            .WithMessage("*unexpected key 'extra.weight'*")
            .WithMessage("*'head.0.weight' has shape [3, 3] in the state dict but [8, 4] in the module*");
        net.Head[0].As<Linear>().Weight.Equal(before).Should().BeTrue();

        state.Remove("extra.weight");
        state["head.0.weight"] = Tensor.Zeros([8, 4]);
        net.LoadStateDict(state, strict: false);
        net.Head[0].As<Linear>().Weight.Equal(Tensor.Zeros([8, 4])).Should().BeTrue();
    }

    [Fact]
    public void Registering_a_duplicate_or_dotted_name_is_rejected()
    {
        var act = () => new DuplicateNames();
        act.Should().Throw<ArgumentException>().WithMessage("*already has a member named 'w'*");
    }

    private sealed class DuplicateNames : Module
    {
        public DuplicateNames()
        {
            RegisterParameter("w", Tensor.Zeros([1]));
            RegisterParameter("w", Tensor.Zeros([1]));
        }
    }

    [Fact]
    public void Converting_dtype_keeps_parameter_identity_so_optimizers_still_see_them()
    {
        using var linear = new Linear(3, 2);
        var weight = linear.Weight;
        linear.To(ScalarType.Float64);
        linear.Weight.Should().BeSameAs(weight);
        weight.DType.Should().Be(ScalarType.Float64);
        weight.RequiresGrad.Should().BeTrue();
        weight.Shape.Should().Equal(2, 3);
    }

    [Fact]
    public void Modules_dispose_their_parameters_and_buffers()
    {
        var net = new Net();
        var weight = net.Blocks[1].Proj.Weight;
        var buffer = net.Blocks[0].Scale;
        net.Dispose();
        weight.IsDisposed.Should().BeTrue();
        buffer.IsDisposed.Should().BeTrue();
    }
}
