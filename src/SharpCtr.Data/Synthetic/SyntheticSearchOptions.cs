namespace SharpCtr.Data.Synthetic;

/// <summary>
/// Every knob of the synthetic search-log generator. One YAML key per property (snake_case,
/// e.g. <c>accidental_click_probability</c>); unknown keys are errors. The defaults describe a
/// "moderate" log of a few thousand users; docs/synthetic-search.md explains each knob.
/// </summary>
public sealed class SyntheticSearchOptions
{
    // Population and time.
    public ulong Seed { get; set; } = 1;
    public int Users { get; set; } = 2000;
    public int Days { get; set; } = 30;
    public long StartTimestamp { get; set; } = 1_700_000_000;

    // Catalogue: a two-level category tree, items in the leaves with a Zipf popularity skew.
    public int TopCategories { get; set; } = 8;
    public int LeavesPerTop { get; set; } = 6;
    public int ItemsPerLeaf { get; set; } = 60;
    public double PopularityExponent { get; set; } = 1.0;
    public int LeafVocabulary { get; set; } = 6;
    public int TopVocabulary { get; set; } = 6;
    public int GenericVocabulary { get; set; } = 24;

    // Users: a few long-term interest leaves with weights, and shifts of the dominant one.
    public int MinInterests { get; set; } = 2;
    public int MaxInterests { get; set; } = 4;
    public double InterestConcentration { get; set; } = 1.5;
    public int MinSessions { get; set; } = 2;
    public int MaxSessions { get; set; } = 6;
    public double ShiftProbability { get; set; } = 0.3;
    public double NewInterestProbability { get; set; } = 0.3;

    // Requests: queries per session and pages per query.
    public int MinQueriesPerSession { get; set; } = 1;
    public int MaxQueriesPerSession { get; set; } = 2;
    public double NextPageProbability { get; set; } = 0.3;
    public int MaxPages { get; set; } = 4;
    public double AmbiguousQueryProbability { get; set; } = 0.4;
    public double LeafTokenShare { get; set; } = 0.5;
    public double TopTokenShare { get; set; } = 0.3;
    public int MinQueryTokens { get; set; } = 1;
    public int MaxQueryTokens { get; set; } = 4;

    // Context (hour, weekend) and scene (device, source) pull the intent towards some top
    // categories: weight × exp(Σ strength × affinity[top, value]). The page only lowers examination.
    public double HourStrength { get; set; } = 0.8;
    public double WeekendStrength { get; set; } = 0.5;
    public double DeviceStrength { get; set; } = 0.6;
    public double SourceStrength { get; set; } = 0.4;
    public double PrimaryDeviceProbability { get; set; } = 0.8;

    // Exposure: what the engine shows, and how it orders it.
    public int MinShown { get; set; } = 10;
    public int MaxShown { get; set; } = 20;
    public double IntentLeafShare { get; set; } = 0.4;
    public double IntentTopShare { get; set; } = 0.2;
    public double RankingNoise { get; set; } = 1.0;

    // Clicks: examination × attraction.
    public double PositionBiasExponent { get; set; } = 0.7;
    public double PageExamination { get; set; } = 0.7;
    public double BaseLogit { get; set; } = -2.2;
    public double LeafMatchWeight { get; set; } = 3.0;
    public double TopMatchWeight { get; set; } = 1.0;
    public double PreferenceWeight { get; set; } = 1.0;
    public double ItemQualitySpread { get; set; } = 0.5;

    // Noise, recorded as ordinary clicks and flagged only in truth.jsonl.
    public double AccidentalClickProbability { get; set; } = 0.02;
    public double CrossCategoryClickProbability { get; set; } = 0.25;

    public int Leaves => TopCategories * LeavesPerTop;
    public int Items => Leaves * ItemsPerLeaf;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field (its YAML key).</summary>
    public void Validate()
    {
        Positive(Users, "users"); Positive(Days, "days");
        Positive(TopCategories, "top_categories"); Positive(LeavesPerTop, "leaves_per_top");
        Positive(ItemsPerLeaf, "items_per_leaf");
        NonNegative(PopularityExponent, "popularity_exponent");
        Positive(LeafVocabulary, "leaf_vocabulary"); Positive(TopVocabulary, "top_vocabulary");
        Positive(GenericVocabulary, "generic_vocabulary");
        Range(MinInterests, MaxInterests, 1, Leaves, "min_interests", "max_interests");
        Check(InterestConcentration > 0, "interest_concentration", "must be > 0");
        Range(MinSessions, MaxSessions, 1, 10_000, "min_sessions", "max_sessions");
        Probability(ShiftProbability, "shift_probability");
        Probability(NewInterestProbability, "new_interest_probability");
        Range(MinQueriesPerSession, MaxQueriesPerSession, 1, 1000, "min_queries_per_session", "max_queries_per_session");
        Probability(NextPageProbability, "next_page_probability");
        Positive(MaxPages, "max_pages");
        Probability(AmbiguousQueryProbability, "ambiguous_query_probability");
        Probability(LeafTokenShare, "leaf_token_share");
        Probability(TopTokenShare, "top_token_share");
        Check(LeafTokenShare + TopTokenShare <= 1, "top_token_share", "leaf_token_share + top_token_share must be <= 1");
        Range(MinQueryTokens, MaxQueryTokens, 1, 100, "min_query_tokens", "max_query_tokens");
        NonNegative(HourStrength, "hour_strength"); NonNegative(WeekendStrength, "weekend_strength"); NonNegative(DeviceStrength, "device_strength");
        NonNegative(SourceStrength, "source_strength");
        Probability(PrimaryDeviceProbability, "primary_device_probability");
        Range(MinShown, MaxShown, 1, Items, "min_shown", "max_shown");
        Probability(IntentLeafShare, "intent_leaf_share");
        Probability(IntentTopShare, "intent_top_share");
        Check(IntentLeafShare + IntentTopShare <= 1, "intent_top_share", "intent_leaf_share + intent_top_share must be <= 1");
        NonNegative(RankingNoise, "ranking_noise");
        NonNegative(PositionBiasExponent, "position_bias_exponent");
        Probability(PageExamination, "page_examination");
        Finite(BaseLogit, "base_logit"); Finite(LeafMatchWeight, "leaf_match_weight");
        Finite(TopMatchWeight, "top_match_weight"); Finite(PreferenceWeight, "preference_weight");
        NonNegative(ItemQualitySpread, "item_quality_spread");
        Probability(AccidentalClickProbability, "accidental_click_probability");
        Probability(CrossCategoryClickProbability, "cross_category_click_probability");
    }

    static void Check(bool ok, string field, string why)
    {
        if (!ok) throw new ArgumentException($"field '{field}': {why}");
    }
    static void Positive(int v, string field) => Check(v > 0, field, $"must be > 0, got {v}");
    static void NonNegative(double v, string field) => Check(double.IsFinite(v) && v >= 0, field, $"must be a finite number >= 0, got {v}");
    static void Finite(double v, string field) => Check(double.IsFinite(v), field, $"must be a finite number, got {v}");
    static void Probability(double v, string field) => Check(v >= 0 && v <= 1, field, $"must be in [0, 1], got {v}");
    static void Range(int min, int max, int lo, int hi, string minField, string maxField)
    {
        Check(min >= lo && min <= hi, minField, $"must be in [{lo}, {hi}], got {min}");
        Check(max >= min && max <= hi, maxField, $"must be in [{minField} = {min}, {hi}], got {max}");
    }
}
