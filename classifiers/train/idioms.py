"""Hand-written everyday hyperbole that uses violent words, added to training as negatives.

The public threat and self-harm data (political Telegram, flattened Reddit) never show how
teenagers use these words harmlessly, so a model trained on it alone reads "shoot me a text" as
violence. These sentences were written for this project (no real posts); each is repeated
IDIOM_REPEAT times so a few dozen lines weigh against thousands of rows. Documented in the model
card. They only teach the model; the first-person intent patterns still catch plain statements.
"""
from __future__ import annotations

IDIOM_REPEAT = 4

THREAT_NEGATIVES = (
    "shoot me a text later", "shoot me a message when you get home", "shoot me an email about the project",
    "omg im dead", "im dead lol", "i'm literally dead 😂", "i'm dying of laughter", "dead 💀💀",
    "this homework is killing me", "my feet are killing me", "you're killing it", "she killed it at the concert",
    "we're gonna kill it at the game tonight", "we crushed them in the game", "we destroyed them 5-0",
    "the school play was a bomb", "that test bombed", "the show was fire", "that song slaps", "this beat hits hard",
    "i could murder a pizza rn", "my mom is gonna kill me if i miss curfew", "my dad will kill me lol",
    "i'm gonna beat you at fortnite", "i will destroy you in chess", "we are gonna smash the other team",
    "break a leg tonight!", "knock em dead at the audition", "that joke killed", "shot in basketball practice",
    "good shot today", "photo shoot after school", "we shot a video for class", "target practice at the range with my dad",
    "hunting season with grandpa this weekend", "the movie had a lot of shooting scenes", "bang bang is a great song",
    "fight club is my favorite movie", "the war unit in history class is so interesting", "this puzzle is murder",
)
SELF_HARM_NEGATIVES = (
    "kill me now this class is so boring", "ugh shoot me", "i'm dead lol", "i'm dying this is so funny",
    "this homework is killing me", "i want to die of embarrassment lol", "i literally died laughing",
    "my phone died", "i'm so tired i could sleep forever", "i'm done with this chapter",
    "i hate mondays", "i'm so done with math", "end of the year party!", "the end of the movie made me cry",
)
